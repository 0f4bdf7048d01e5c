#!/usr/bin/env python3
"""web-search: query a search API and print the top results as JSON lines.

Usage: search.py QUERY [--limit N]

Reads SEARCH_API_URL (default https://api.search.example/v1/search) and
SEARCH_API_KEY from the environment. Uses only the standard library.
"""

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request

DEFAULT_URL = "https://api.search.example/v1/search"


def search(query: str, limit: int) -> list[dict]:
    base = os.environ.get("SEARCH_API_URL", DEFAULT_URL)
    url = f"{base}?{urllib.parse.urlencode({'q': query, 'limit': limit})}"
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    key = os.environ.get("SEARCH_API_KEY")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.load(resp)
    results = []
    for item in body.get("results", [])[:limit]:
        results.append(
            {
                "title": str(item.get("title", "")),
                "url": str(item.get("url", "")),
                "snippet": str(item.get("snippet", "")),
            }
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query")
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()
    if not args.query.strip():
        print("search.py: empty query", file=sys.stderr)
        return 2
    try:
        for result in search(args.query, max(1, min(args.limit, 20))):
            print(json.dumps(result, ensure_ascii=False))
    except OSError as err:
        print(f"search.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
