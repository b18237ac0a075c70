"""``sikker admin user|key|plan ...``: accounts, API keys and plans.

Works on the data directory's account store directly, so it runs beside a
live server (LMDB takes one writer at a time): plan changes, disabled
accounts and revoked keys apply at every worker's next request. ``admin``
also holds ``removal`` (:mod:`sikker.cli_removals`).
"""

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from sikker.cli_removals import add_removal_parser
from sikker.core.config import Config


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _day(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch)) if epoch else "-"


@contextmanager
def _accounts(config: Config) -> Iterator[Any]:
    from sikker.core.accounts import AccountStore
    from sikker.core.plans import load_plans

    with AccountStore(config.data_path, load_plans(config.plans_path or None)) as store:
        yield store


def _usage(config: Config, store: Any, account_id: str) -> dict[str, dict[str, int]]:
    """Return today's quota use of an account, read from the shared table."""
    from sikker.core.plans import FAMILIES
    from sikker.core.quota import QuotaTable
    from sikker.core.redis_client import RedisSettings
    from sikker.server.accounts import QUOTA_FILE

    table = QuotaTable(
        config.data_path / QUOTA_FILE,
        slots=int(config.quota_slots),
        restore=store.load_usage,
    )
    quota: Any = table
    redis = RedisSettings.from_config(config)
    if redis is not None:  # the nodes count on Redis: read it there
        from sikker.core.quota_shared import shared_counters

        quota = shared_counters(redis, "quota", table)
    try:
        account = store.account(account_id)
        plan = store.plans.resolve(account.plan)
        out = {}
        for family in FAMILIES:
            used, limit = quota.used(account_id, family), plan.quotas[family]
            out[family] = {
                "used": used,
                "limit": limit,
                "remaining": max(limit - used, 0),
            }
        return out
    finally:
        table.close()


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """Return (password, generated): from stdin with --password-stdin."""
    from sikker.core.passwords import generate_password

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


def _user_line(account: Any, keys: int) -> str:
    state = "disabled" if account.disabled else "active"
    return (
        f"{account.email:<40} {account.plan:<12} {state:<8} "
        f"{keys:>2} key(s)  since {_day(account.created)}"
    )


def _out(args: argparse.Namespace, data: Any, text: str) -> int:
    if getattr(args, "json", False):
        _print_json(data)
    else:
        print(text)
    return 0


def operator_key(config: Config) -> tuple[str, str]:
    """Return the operator's API key and the file holding it (made if missing)."""
    from sikker.core.admin import read_credentials
    from sikker.server.accounts import bootstrap

    path, _ = bootstrap(config)
    return read_credentials(config.data_path)["key"], str(path)


# -- user --------------------------------------------------------------------------


def cmd_user(config: Config, args: argparse.Namespace) -> int:
    """List, show, create and change accounts."""
    with _accounts(config) as store:
        return _USER_ACTIONS[args.user_action](config, store, args)


def _user_list(config: Config, store: Any, args: argparse.Namespace) -> int:
    users = [u for u in store.users() if args.plan in (None, u.plan)]
    active = {u.id: sum(1 for k in store.keys(u.id) if not k.revoked) for u in users}
    data = {"users": [{**u.public(), "activeKeys": active[u.id]} for u in users]}
    lines = [_user_line(u, active[u.id]) for u in users] or ["no accounts"]
    return _out(args, data, "\n".join(lines))


def _user_show(config: Config, store: Any, args: argparse.Namespace) -> int:
    account = store.user(args.email)
    keys = store.keys(account.id)
    usage = _usage(config, store, account.id)
    data = {
        **account.public(),
        "keys": [k.public() for k in keys],
        "usage": usage,
    }
    lines = [_user_line(account, sum(1 for k in keys if not k.revoked))]
    lines.append(f"  id {account.id}")
    for family, use in usage.items():
        lines.append(
            f"  {family:<10} {use['used']:>9,} of {use['limit']:>9,} used today"
        )
    for key in keys:
        state = f"revoked {_day(key.revoked)}" if key.revoked else "active"
        lines.append(f"  key {key.id}  {state:<18} {key.name}")
    if account.ranges:
        lines.append(f"  own ranges: {', '.join(account.ranges)}")
    return _out(args, data, "\n".join(lines))


def _user_create(config: Config, store: Any, args: argparse.Namespace) -> int:
    password, generated = _password(args)
    account = store.add_user(args.email, password, args.plan)
    data: dict[str, Any] = account.public()
    lines = [f"created {account.email} on plan {account.plan} ({account.id})"]
    if generated:
        data["password"] = password
        lines.append(f"  password: {password}  (shown once)")
    if args.key:
        key, plaintext = store.create_key(account.id, args.key_name)
        data["key"] = {**key.public(), "key": plaintext}
        lines.append(f"  API key:  {plaintext}  (shown once)")
    return _out(args, data, "\n".join(lines))


def _user_set_plan(config: Config, store: Any, args: argparse.Namespace) -> int:
    before = store.user(args.email).plan
    account = store.set_plan(args.email, args.plan)
    text = (
        f"{account.email}: plan {before} -> {account.plan} "
        "(servers apply it at their next request)"
    )
    return _out(args, account.public(), text)


def _user_disabled(config: Config, store: Any, args: argparse.Namespace) -> int:
    disable = args.user_action == "disable"
    account = store.set_disabled(args.email, disable)
    state = "disabled: its keys are refused" if disable else "enabled again"
    text = f"{account.email} {state} (from every server's next request)"
    return _out(args, account.public(), text)


def _user_set_password(config: Config, store: Any, args: argparse.Namespace) -> int:
    password, generated = _password(args)
    account = store.set_password(args.email, password)
    data = {**account.public(), **({"password": password} if generated else {})}
    text = f"{account.email}: password changed"
    if generated:
        text += f"\n  password: {password}  (shown once)"
    return _out(args, data, text)


def _user_ranges(config: Config, store: Any, args: argparse.Namespace) -> int:
    account = store.user(args.email)
    if args.clear or args.cidrs:
        ranges = store.set_allowed_ranges(account.id, [] if args.clear else args.cidrs)
    else:
        ranges = list(account.ranges)
    text = "\n".join(ranges) if ranges else f"{account.email} lists no own ranges"
    return _out(args, {"email": account.email, "allowedRanges": ranges}, text)


_USER_ACTIONS: dict[str, Callable[[Config, Any, argparse.Namespace], int]] = {
    "list": _user_list,
    "show": _user_show,
    "create": _user_create,
    "set-plan": _user_set_plan,
    "disable": _user_disabled,
    "enable": _user_disabled,
    "set-password": _user_set_password,
    "ranges": _user_ranges,
}


# -- key ---------------------------------------------------------------------------


def _key_id(text: str) -> str:
    """Return the key id of an id, a key or its shown prefix (sk_live_<id>_...)."""
    from sikker.core.apikeys import PREFIX, is_key_id
    from sikker.errors import AccountError

    key_id = text.removeprefix(PREFIX).split("_", 1)[0]
    if not is_key_id(key_id):
        raise AccountError(
            f"{text[:40]!r} is not a key id (12 characters: a-z, 2-7) or a key"
        )
    return key_id


def cmd_key(config: Config, args: argparse.Namespace) -> int:
    """List, create and revoke API keys."""
    with _accounts(config) as store:
        if args.key_action == "list":
            account = store.user(args.email)
            keys = [k for k in store.keys(account.id) if args.all or not k.revoked]
            lines = [
                f"{k.id}  {k.public()['prefix']:<26} created {_day(k.created)}"
                f"{'  revoked ' + _day(k.revoked) if k.revoked else ''}  {k.name}"
                for k in keys
            ] or [f"{account.email} holds no {'' if args.all else 'active '}keys"]
            data = {"email": account.email, "keys": [k.public() for k in keys]}
            return _out(args, data, "\n".join(lines))
        if args.key_action == "create":
            account = store.user(args.email)
            key, plaintext = store.create_key(account.id, args.name)
            text = (
                f"created key {key.id} for {account.email} (shown once):\n{plaintext}"
            )
            data = {**key.public(), "email": account.email, "key": plaintext}
            return _out(args, data, text)
        key = store.revoke_key(_key_id(args.key))
        owner = store.account(key.account)
        text = (
            f"revoked key {key.id} of {owner.email} (from every server's next request)"
        )
        return _out(args, {**key.public(), "email": owner.email}, text)


# -- plan --------------------------------------------------------------------------


def cmd_plan(config: Config, args: argparse.Namespace) -> int:
    """List the plans of the plans file."""
    from sikker.core.plans import load_plans

    plans = load_plans(config.plans_path or None)
    lines = [f"plans from {plans.source} (new accounts: {plans.default})"]
    for plan in plans.plans.values():
        quotas = ", ".join(f"{f} {n:,}" for f, n in plan.quotas.items())
        lines.append(f"  {plan.id:<12} {plan.name:<14} per day: {quotas}")
    data = {
        "default": plans.default,
        "source": plans.source,
        "plans": [p.public() for p in plans.plans.values()],
    }
    return _out(args, data, "\n".join(lines))


# -- parsers -----------------------------------------------------------------------


def _email(p: argparse.ArgumentParser) -> None:
    p.add_argument("email", metavar="EMAIL", help="the account's email address")


def _action(
    sub: Any, name: str, help: str, email: bool = True
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    if email:
        _email(p)
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON for scripts",
    )
    return p


def _password_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (default: generate one)",
    )


def add_user_parser(areas: Any) -> None:
    """Add ``user`` to the ``admin`` command's areas."""
    p = areas.add_parser("user", help="manage accounts", description="manage accounts")
    p.set_defaults(func=cmd_user)
    sub = p.add_subparsers(dest="user_action", required=True, metavar="ACTION")
    listing = _action(sub, "list", "list accounts", email=False)
    listing.add_argument("--plan", metavar="PLAN", help="only accounts on PLAN")
    _action(sub, "show", "show an account, its keys and today's quota use")
    create = _action(sub, "create", "create an account")
    create.add_argument("--plan", metavar="PLAN", help="plan (default: the default)")
    _password_flag(create)
    create.add_argument("--key", action="store_true", help="also create an API key")
    create.add_argument(
        "--key-name", default="", metavar="NAME", help="that key's name"
    )
    set_plan = _action(sub, "set-plan", "move an account to another plan at once")
    set_plan.add_argument("plan", metavar="PLAN", help="plan id (sikker admin plan)")
    _action(sub, "disable", "disable an account: every key of it is refused")
    _action(sub, "enable", "enable a disabled account again")
    _password_flag(_action(sub, "set-password", "replace an account's password"))
    ranges = _action(sub, "ranges", "show or replace the account's own networks")
    ranges.add_argument("cidrs", nargs="*", metavar="CIDR", help="the new ranges")
    ranges.add_argument("--clear", action="store_true", help="remove every range")


def add_key_parser(areas: Any) -> None:
    """Add ``key`` to the ``admin`` command's areas."""
    p = areas.add_parser("key", help="manage API keys", description="manage API keys")
    p.set_defaults(func=cmd_key)
    sub = p.add_subparsers(dest="key_action", required=True, metavar="ACTION")
    listing = _action(sub, "list", "list an account's keys (never the keys themselves)")
    listing.add_argument("--all", action="store_true", help="revoked keys too")
    create = _action(sub, "create", "create a key; it is printed once")
    create.add_argument("--name", default="", metavar="NAME", help="a label for it")
    revoke = _action(sub, "revoke", "revoke a key", email=False)
    revoke.add_argument("key", metavar="KEY_ID", help="the key's id (or the key)")


def add_plan_parser(areas: Any) -> None:
    """Add ``plan`` to the ``admin`` command's areas."""
    p = areas.add_parser("plan", help="show plans", description="show plans")
    p.set_defaults(func=cmd_plan)
    sub = p.add_subparsers(dest="plan_action", required=True, metavar="ACTION")
    _action(sub, "list", "list the plans and their daily quotas", email=False)


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``admin`` (user, key, plan, removal) through cli.build_parser."""
    p = command(
        "admin", cmd_user, "administer the server: accounts, keys, plans, removals"
    )
    areas = p.add_subparsers(dest="admin_area", required=True, metavar="AREA")
    add_user_parser(areas)
    add_key_parser(areas)
    add_plan_parser(areas)
    add_removal_parser(areas)
