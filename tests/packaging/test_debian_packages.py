"""The two Debian packages as a deployer gets them: `cpack -G DEB` from this build, then what is
inside each .deb (binary, systemd unit, /etc/default file marked as a conffile so an upgrade
keeps the deployer's edits) and what its maintainer scripts ask of systemd on install, upgrade
and removal (run against a recording `systemctl`, never the machine's)."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

PACKAGES = {
    "ruxx-sync-master": {"binary": "master-server", "unit": "ruxx-master-server"},
    "ruxx-sync-slave": {"binary": "slave-agent", "unit": "ruxx-slave-agent"},
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300, **kw)


class DebianPackagesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        config = os.environ.get("RUXX_CPACK_CONFIG")
        cpack = os.environ.get("RUXX_CPACK", "cpack")
        if not config or not os.path.exists(config):
            raise unittest.SkipTest("RUXX_CPACK_CONFIG not set (run through ctest)")
        if not shutil.which("dpkg-deb"):
            raise unittest.SkipTest("dpkg-deb not installed")
        cls.tmp = tempfile.mkdtemp(prefix="ruxx-pkg-")
        run([cpack, "--config", config, "-G", "DEB", "-B", cls.tmp])
        cls.debs = {}
        for name in os.listdir(cls.tmp):
            if name.endswith(".deb"):
                cls.debs[name.split("_")[0]] = os.path.join(cls.tmp, name)
        cls.control = {}
        for package, deb in cls.debs.items():
            control_dir = os.path.join(cls.tmp, "control-" + package)
            run(["dpkg-deb", "-e", deb, control_dir])
            cls.control[package] = control_dir

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_two_packages_with_binary_unit_and_defaults(self):
        self.assertEqual(sorted(self.debs), sorted(PACKAGES))
        for package, info in PACKAGES.items():
            with self.subTest(package=package):
                listing = run(["dpkg-deb", "-c", self.debs[package]]).stdout
                paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
                self.assertIn("/usr/bin/" + info["binary"], paths)
                self.assertIn("/usr/lib/systemd/system/%s.service" % info["unit"], paths)
                self.assertIn("/etc/default/" + info["unit"], paths)
                depends = run(["dpkg-deb", "-f", self.debs[package], "Depends"]).stdout
                for lib in ("tzdata", "ca-certificates", "libsqlite3-0", "libssl3"):
                    self.assertIn(lib, depends)

    def test_defaults_file_is_a_conffile(self):
        # Without this an upgrade overwrites the deployer's listen address, .env path and TLS
        # arguments, and the restarted service comes up with the shipped defaults.
        for package, info in PACKAGES.items():
            with self.subTest(package=package):
                with open(os.path.join(self.control[package], "conffiles")) as f:
                    self.assertEqual(f.read().split(), ["/etc/default/" + info["unit"]])

    def test_maintainer_scripts_are_executable_posix_sh(self):
        for package in PACKAGES:
            for script in ("postinst", "prerm", "postrm"):
                with self.subTest(package=package, script=script):
                    path = os.path.join(self.control[package], script)
                    self.assertTrue(os.stat(path).st_mode & stat.S_IXUSR)
                    run(["sh", "-n", path])

    def run_script(self, package, script, args, systemd=True, systemctl_exit=0):
        """Runs a maintainer script with a recording systemctl first on PATH; returns the
        systemctl calls. The systemd check looks at a stand-in directory, not /run."""
        work = tempfile.mkdtemp(dir=self.tmp)
        fake_run = os.path.join(work, "run-systemd-system")
        if systemd:
            os.mkdir(fake_run)
        with open(os.path.join(self.control[package], script)) as f:
            text = f.read()
        self.assertIn("/run/systemd/system", text)
        patched = os.path.join(work, script)
        with open(patched, "w") as f:
            f.write(text.replace("/run/systemd/system", fake_run))
        bin_dir = os.path.join(work, "bin")
        os.mkdir(bin_dir)
        calls = os.path.join(work, "calls")
        fake = os.path.join(bin_dir, "systemctl")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> "%s"\nexit %d\n' % (calls, systemctl_exit))
        os.chmod(fake, 0o755)
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
        r = subprocess.run(["sh", patched] + args, env=env, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        if not os.path.exists(calls):
            return []
        with open(calls) as f:
            return f.read().splitlines()

    def test_install_reloads_systemd_and_starts_nothing(self):
        for package, info in PACKAGES.items():
            with self.subTest(package=package):
                self.assertEqual(self.run_script(package, "postinst", ["configure", ""]),
                                 ["daemon-reload"])

    def test_upgrade_restarts_a_running_service_on_the_new_unit(self):
        for package, info in PACKAGES.items():
            with self.subTest(package=package):
                unit = info["unit"] + ".service"
                self.assertEqual(self.run_script(package, "prerm", ["upgrade", "9.9.9"]), [])
                self.assertEqual(self.run_script(package, "postinst", ["configure", "0.0.1"]),
                                 ["daemon-reload", "try-restart " + unit])
                self.assertEqual(self.run_script(package, "postrm", ["upgrade", "9.9.9"]), [])

    def test_removal_stops_and_disables_and_deletes_nothing(self):
        for package, info in PACKAGES.items():
            with self.subTest(package=package):
                unit = info["unit"] + ".service"
                self.assertEqual(self.run_script(package, "prerm", ["remove"]),
                                 ["disable --now " + unit])
                self.assertEqual(self.run_script(package, "postrm", ["remove"]), ["daemon-reload"])
                self.assertEqual(self.run_script(package, "postrm", ["purge"]), ["daemon-reload"])
                for script in ("prerm", "postrm"):
                    with open(os.path.join(self.control[package], script)) as f:
                        self.assertNotIn("rm ", f.read())

    def test_scripts_never_fail_the_package_operation(self):
        for package in PACKAGES:
            with self.subTest(package=package):
                # No systemd (a container, a chroot): nothing is called.
                self.assertEqual(self.run_script(package, "postinst", ["configure", "0.0.1"],
                                                 systemd=False), [])
                self.assertEqual(self.run_script(package, "prerm", ["remove"], systemd=False), [])
                # systemctl failing (unit not loaded, bus down) does not fail dpkg.
                self.run_script(package, "postinst", ["configure", "0.0.1"], systemctl_exit=1)
                self.run_script(package, "prerm", ["remove"], systemctl_exit=1)
                self.run_script(package, "postrm", ["purge"], systemctl_exit=1)


if __name__ == "__main__":
    unittest.main()
