"""hello - the example app that `make demo` packs with kiln."""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser(description="Greets, from one file.")
    parser.add_argument("name", nargs="?", default="world")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps({"greeting": f"hello, {args.name}"}))
    else:
        print(f"hello, {args.name}, from Python {sys.version.split()[0]}"
              f" packed in {sys.executable}")


if __name__ == "__main__":
    main()
