"""API keys for benchmarks: accounts on a plan whose quotas never interfere.

Every benchmark request is authenticated and counted like any client's, but
the ``bench`` plan's daily quotas and caps are far above what a run can use,
so no request is refused (429) for quota reasons. The server must be started
with ``SIKKER_PLANS_PATH`` pointing at the written plans file.
"""

from pathlib import Path

from sikker.core.accounts import AccountStore
from sikker.core.passwords import ScryptParams
from sikker.core.plans import load_plans

#: Quotas per UTC day and caps per request no benchmark reaches.
BENCH_PLANS = """
default = "bench"
[plans.bench]
name = "Benchmark (quotas never reached)"
quotas = { lookups = 1_000_000_000_000, reports = 1_000_000_000_000, blacklist = 1_000_000_000_000, taxii = 1_000_000_000_000 }
caps = { bulk_check_ips = 10_000, bulk_report_rows = 10_000, blacklist_limit = 10_000_000 }
alerts = { ip = 1, range = 1, username = 1, email = 1, range_prefix_v4 = 24, range_prefix_v6 = 48 }
"""  # noqa: E501
#: Benchmark accounts never log in: a cheap password hash keeps setup fast.
CHEAP_KDF = ScryptParams(log_n=4, r=8, p=1)


def bench_keys(
    data: Path, plans: Path, accounts: int = 1, per_account: int = 1
) -> list[str]:
    """Write the bench plans to ``plans``; return new API keys in ``data``.

    Makes ``accounts`` accounts on the bench plan with ``per_account`` keys
    each (a fleet of clients of several organisations). Run it before the
    server opens ``data``.
    """
    plans.write_text(BENCH_PLANS)
    keys = []
    with AccountStore(data, plans=load_plans(plans), kdf=CHEAP_KDF) as store:
        for i in range(accounts):
            account = store.add_user(f"bench{i}@example.com", "a benchmark password")
            for j in range(per_account):
                keys.append(store.create_key(account.id, f"benchmark {j}")[1])
    return keys
