"""A convert interrupted by SIGINT or SIGTERM exits 130 and leaves no partial output."""
import os
import signal
import subprocess
import time

from nucseg_testlib import BIN, check, run, tempdir


def interrupt(root, images, sig):
    out = os.path.join(root, f"out-{sig}.h5")
    p = subprocess.Popen([BIN, "convert", "--images", images, "--out", out, "--native-size", "-j", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Signal only once convert has started its work (its first log line comes after the
    # handlers are installed): a loaded machine can take over a second to start the binary.
    first = p.stderr.readline()
    check("convert:" in first, f"unexpected first line: {first!r}")
    time.sleep(0.3)
    check(p.poll() is None, "convert finished too early to be interrupted; use more images")
    p.send_signal(sig)
    _, rest = p.communicate(timeout=60)
    err = first + rest
    check(p.returncode == 130, f"exit code {p.returncode}, expected 130: {err}")
    check("interrupted" in err, err)
    left = [n for n in os.listdir(root) if n.startswith(f"out-{sig}")]
    check(not left, f"partial output left behind: {left}")


def main():
    with tempdir() as root:
        run("synth", "--out", os.path.join(root, "plate"), "--wells", 60, "--sites", 4, "--size", 512, 512,
            "--nuclei", 5, 10)
        images = os.path.join(root, "plate", "plate1")
        interrupt(root, images, signal.SIGINT)
        interrupt(root, images, signal.SIGTERM)
    print("ok")


if __name__ == "__main__":
    main()
