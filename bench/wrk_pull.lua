-- wrk script for the small-pull throughput benchmark (docs/PERFORMANCE.md, target 3): every
-- request is a GET of the URL given on the command line with the API key header taken from
-- the SYNC_API_KEY environment variable (default "benchkey", the driver's key).
wrk.method = "GET"
wrk.headers["X-Sync-API-Key"] = os.getenv("SYNC_API_KEY") or "benchkey"
