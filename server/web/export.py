"""The blacklist export tool: ``/export``, ``/export/preview``, ``/export/download``.

Filters are the blacklist API's own parameters (``scoreMinimum``,
``onlyCountries``, ``protocols``, ...), parsed by the same
:class:`~sikker.core.filters.BlacklistQuery`. The page shows how many IPs a
choice matches and their confidence histogram in 10-point buckets
(:func:`~sikker.core.landscape.score_histogram`), the matching API URL and
a cron line; its script asks ``/export/preview`` (JSON, free, limited per
client address) as filters change. A signed-in user downloads the list
from ``/export/download``, which answers exactly what ``GET
/v1/key/blacklist`` answers with the same parameters and charges the same
blacklist quota.
"""

from typing import Any
from urllib.parse import urlencode

import falcon
import orjson

from sikker.core.filters import PARAMS, BlacklistQuery
from sikker.core.formats import FORMAT_PARAMS, FORMATS, from_params
from sikker.core.landscape import score_histogram, top_groups
from sikker.core.snapshot import Snapshot
from sikker.core.vocab import PROTOCOLS, SEVERITIES, countries
from sikker.errors import InvalidFilterError
from sikker.server.resources.blacklist import BlacklistResource
from sikker.server.web import charts
from sikker.server.web.site import Site

#: Query parameters the tool reads; anything else is ignored.
KNOWN = (*PARAMS, *FORMAT_PARAMS)
#: Countries and networks offered as one-click filters.
SUGGESTIONS = 12
#: What the tool offers first: what firewalls read.
DEFAULT_FORMAT = "plaintext"
#: File name suffix of a download, by format.
SUFFIXES = {"json": "json", "csv": "csv", "nftables": "nft"}


def filter_params(req: falcon.Request) -> dict[str, str]:
    """Return the tool's parameters; repeated ones (checkboxes) are joined."""
    out = {}
    for name in KNOWN:
        value = req.get_param_as_list(name)
        if value:
            joined = ",".join(v.strip() for v in value if v.strip())
            if joined:
                out[name] = joined
    return out


def api_path(query: BlacklistQuery, fmt: str) -> str:
    """Return the blacklist API path answering ``query`` in ``fmt``."""
    params = query.as_params()
    if fmt != "json":
        params["format"] = fmt
    return "/v1/key/blacklist?" + urlencode(params, safe=",")


class Export:
    """What the three routes share: parsing and the preview."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.max_limit = int(site.config.blacklist_max_limit)
        self.default_limit = int(site.config.blacklist_default_limit)

    def query(self, params: dict[str, str]) -> tuple[BlacklistQuery, str]:
        """Return the query and the format name (InvalidFilterError if bad)."""
        with_limit = {"limit": str(self.default_limit), **params}
        query = BlacklistQuery.from_params(with_limit, max_limit=self.max_limit)
        return query, from_params({"format": DEFAULT_FORMAT, **params}).name

    def preview(self, snapshot: Snapshot, query: BlacklistQuery, fmt: str) -> dict:
        """Return the preview document of a query."""
        histogram = score_histogram(snapshot, query)
        return {
            "sequence": snapshot.sequence,
            "listed": snapshot.count,
            **histogram.public(),
            "scoreMinimum": query.score_minimum,
            "limit": query.limit,
            "format": fmt,
            "apiPath": api_path(query, fmt),
        }


class ExportPage:
    """``GET /export``: the tool (it works without its script too)."""

    web_page = True

    def __init__(self, export: Export) -> None:
        self.export = export

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the tool with the preview of the filters in the URL."""
        site = self.export.site
        params = filter_params(req)
        snapshot = site.store.current()
        error = None
        try:
            query, fmt = self.export.query(params)
        except InvalidFilterError as ex:
            error = str(ex)
            query, fmt = self.export.query({})
        preview = self.export.preview(snapshot, query, fmt)
        names = countries()
        site.render(
            req,
            resp,
            "export.html",
            error=error,
            params=params,
            query=query,
            fmt=fmt,
            preview=preview,
            chart=charts.histogram(preview["buckets"], query.score_minimum),
            base=req.prefix,
            protocols=PROTOCOLS,
            severities=SEVERITIES,
            formats=FORMATS,
            countries=[
                (code, names.get(code, code), n)
                for code, n in top_groups(snapshot, "country:", SUGGESTIONS)
            ],
            networks=[
                (f"AS{asn}", snapshot.asn_orgs.get(asn, ""), n)
                for asn, n in top_groups(snapshot, "asn:", SUGGESTIONS)
            ],
        )


class PreviewResource:
    """``GET /export/preview``: the count and histogram of filters, as JSON."""

    web_page = False  # JSON for everyone

    def __init__(self, export: Export) -> None:
        self.export = export
        self.per_minute = int(export.site.config.web_previews_per_minute)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the preview; a bad filter is a 400 naming it."""
        query, fmt = self.export.query(filter_params(req))
        self.export.site.limit(req, "previews", self.per_minute)
        snapshot = self.export.site.store.current()
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(self.export.preview(snapshot, query, fmt))
        resp.set_header("X-Snapshot-Sequence", str(snapshot.sequence))


class DownloadResource:
    """``GET /export/download``: the list as a file, for signed-in users."""

    web_page = True

    def __init__(self, export: Export, blacklist: BlacklistResource) -> None:
        self.export = export
        self.blacklist = blacklist

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer what the blacklist API answers, charged to the account."""
        site = self.export.site
        account = site.require_user(req)
        params: dict[str, Any] = {"format": DEFAULT_FORMAT, **filter_params(req)}
        fmt = from_params(params).name
        site.meter(req, resp, account)
        self.blacklist.answer(req, resp, params)
        suffix = SUFFIXES.get(fmt, "txt")
        resp.downloadable_as = f"sikker-blacklist.{suffix}"
