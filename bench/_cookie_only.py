"""`tokenusage serve` with sign-ins trusted from the signed cookie alone, as before sessions were
records in the store: the baseline of `bench_web.py`'s session measurement. The server-side
check (`Sessions.check`) is replaced by one that asks nothing; never use this for real."""

from __future__ import annotations

import sys

from tokenusage.cli import main
from tokenusage.service.sessions import Sessions


async def _cookie_only(_self: Sessions, _token: str) -> str:
    return "bench"  # the admin bench_web.py signs in as


Sessions.check = _cookie_only  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
