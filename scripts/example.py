#!/usr/bin/python3
"""Read one frame from a framefs mount with open() and its attributes with os.getxattr.

    scripts/example.py /mnt/frames/clip.mp4/t=12.5,tol=0.1.png frame.png
"""
import argparse
import os
import sys

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("frame", metavar="FRAME", help="a frame file on the mount, e.g. MNT/clip.mp4/t=12.5.png")
ap.add_argument("out", metavar="OUT", nargs="?", help="where to write it (default: its name, here)")
args = ap.parse_args()


def attr(name):  # framefs's attributes are short strings
    try:
        return os.getxattr(args.frame, "user." + name).decode()
    except OSError:
        return None


if attr("result") != "succeeded":  # a failed frame exists, but open() gives EIO
    sys.exit(f"{args.frame}: {attr('error') or 'not a framefs frame'}")
with open(args.frame, "rb") as f:
    image = f.read()
out = args.out or os.path.basename(args.frame)
with open(out, "wb") as f:
    f.write(image)
print(f"requested {attr('requested_time')} s, got the frame at {attr('actual_time')} s: "
      f"{attr('width')}x{attr('height')}, {len(image)} bytes -> {out}")
