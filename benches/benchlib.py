"""What the benchmark scripts beside this file share."""
import os


def release_quiver():
    """Where `cargo build --release` puts the quiver binary: under $CARGO_TARGET_DIR, or the
    target folder the test script uses (~/.cache/quiver/target)."""
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/quiver/target"))
    return os.path.join(target, "release", "quiver")
