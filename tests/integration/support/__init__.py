"""Shared helpers of the integration tests (see docs/TESTING.md).

`master` starts and stops the real master-server binary and talks HTTP to it; `fixtures`
builds app-schema SQLite files, seeds them and reads the PHP module's wire captures.
"""
