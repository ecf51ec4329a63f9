"""moto's server finds the service of every request again from its host name: it lists moto's package directory (a
stat per entry) and tries each service's URL patterns in turn, under the one lock every request takes. The answer
depends on the host name only, so it is remembered per host name: under load that lookup was about a third of the
server's dispatching (py-spy on the fault run, tests/e2e/test_fault_run.py), and every request waited behind it.

Nothing AWS does changes: the same backend serves the same host, found the first time exactly as moto finds it.
A host name no backend serves is not remembered (moto answers it with its default service each time, as before).
The host names are moto's own (service and region, from a request's signature): a handful; at most
MAX_REMEMBERED_HOSTS are kept all the same, so the server stays bounded whatever requests claim.

Written against moto 5.2.6 (local.aws.MOTO_VERSION): wraps DomainDispatcherApplication.get_backend_for_host.
"""

from __future__ import annotations

from typing import Any

MAX_REMEMBERED_HOSTS = 256
_installed = False


def install() -> None:
    """Remember each host name's backend in moto's dispatcher (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    found: dict[str, Any] = {}  # host name -> backend; read and written under the dispatcher's own lock

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host is None:
            return None
        backend = found.get(host)
        if backend is None:
            backend = original(self, host)
            if backend and len(found) < MAX_REMEMBERED_HOSTS:
                found[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
