"""The web site: free lookups, reporting, accounts, the blacklist export
tool, the threat catalog and landscape, removal requests (docs/web.md).

Server-rendered pages (Jinja2 templates and static files shipped in this
package) served by the same Falcon app as the API, with a little
JavaScript that no page depends on. :func:`install` adds every route; the
app calls it once, after the accounts and the API routes.
"""

import falcon

from sikker.core.config import Config
from sikker.core.store import SnapshotStore
from sikker.errors import CsrfError, InvalidFormError
from sikker.server.errors import respond
from sikker.server.resources.blacklist import BlacklistResource
from sikker.server.web.account import (
    AccountPage,
    AlertDeleteResource,
    AlertsResource,
    KeyRevokeResource,
    KeysResource,
    SignInPage,
    SignOutResource,
    SignUpPage,
)
from sikker.server.web.assets import StaticResource
from sikker.server.web.catalog import BehaviorPage, CatalogPage
from sikker.server.web.export import (
    DownloadResource,
    Export,
    ExportPage,
    PreviewResource,
)
from sikker.server.web.html_errors import HtmlErrors
from sikker.server.web.landscape import LandscapePage
from sikker.server.web.lookup import HomePage, LookupPage
from sikker.server.web.removals import (
    AdminDecisionResource,
    AdminRemovalsPage,
    RemovalPage,
)
from sikker.server.web.reports import BulkReportPage, ReportPage, Reports
from sikker.server.web.site import Site


def _invalid_form(
    req: falcon.Request, resp: falcon.Response, ex: InvalidFormError, params: dict
) -> None:
    respond(resp, 400, "invalid_form", str(ex), field=ex.field)


def _csrf(
    req: falcon.Request, resp: falcon.Response, ex: CsrfError, params: dict
) -> None:
    respond(resp, 403, "csrf_failed", str(ex))


def install(app: falcon.App, config: Config, store: SnapshotStore) -> Site:
    """Add the web pages, their static files and their error pages to ``app``."""
    site = Site(app, config, store)
    app.add_middleware(HtmlErrors(site))
    app.add_error_handler(InvalidFormError, _invalid_form)
    app.add_error_handler(CsrfError, _csrf)
    account = AccountPage(site)
    export = Export(site)
    reports = Reports(site)
    routes = {
        "/": HomePage(site),
        "/lookup": LookupPage(site),
        "/catalog": CatalogPage(site),
        "/catalog/{behavior_id}": BehaviorPage(site),
        "/landscape": LandscapePage(site),
        "/export": ExportPage(export),
        "/export/preview": PreviewResource(export),
        "/export/download": DownloadResource(export, BlacklistResource(store, config)),
        "/signup": SignUpPage(site),
        "/signin": SignInPage(site),
        "/signout": SignOutResource(site),
        "/account": account,
        "/account/keys": KeysResource(account),
        "/account/keys/{key_id}/revoke": KeyRevokeResource(site),
        "/account/alerts": AlertsResource(account),
        "/account/alerts/{alert_id}/delete": AlertDeleteResource(site),
        "/report": ReportPage(reports),
        "/bulk-report": BulkReportPage(reports),
        "/removal": RemovalPage(site),
        "/admin/removals": AdminRemovalsPage(site),
        "/admin/removals/{request_id}": AdminDecisionResource(site),
        "/static/{name}": StaticResource(site.assets),
    }
    for path, resource in routes.items():
        app.add_route(path, resource)
    return site
