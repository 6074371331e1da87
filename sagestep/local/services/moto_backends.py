"""Services moto lacks, added to moto the way moto wires its own.

A moto service is three things: a backend class per account and region kept in a ``BackendDict``
(``moto/<service>/models.py``), a response class whose methods are the API actions
(``moto/<service>/responses.py``), and URL patterns (``moto/<service>/urls.py``: the hosts the service
answers on, and the paths with their handlers). moto finds them through ``moto.backend_index`` (host pattern
→ service name: how the server routes a request, signed for ``translate``, to
``translate.<region>.amazonaws.com``) and ``moto.backends.get_backend`` (service name → ``BackendDict``).
:func:`add_moto_service` adds one more entry to both, for as long as the emulator runs.

Example (a service moto lacks, answering ``ListLanguages``)::

    class TranslateBackend(BaseBackend):
        languages = [{"LanguageName": "English", "LanguageCode": "en"}]

    translate_backends = BackendDict(TranslateBackend, "translate")

    class TranslateResponse(BaseResponse):
        def __init__(self) -> None:
            super().__init__(service_name="translate")

        def list_languages(self) -> ActionResult:
            backend = translate_backends[self.current_account][self.region]
            return ActionResult({"Languages": backend.languages})

    add_moto_service(patcher, MotoService(
        "translate", translate_backends,
        url_bases=[r"https?://translate\\.(.+)\\.amazonaws\\.com"],
        url_paths={"{0}/$": TranslateResponse.dispatch},
    ))

Response methods return ``ActionResult`` (serialised with botocore's model of the service, so the boto3
service name must be one botocore knows) and raise ``moto.core.exceptions.ServiceException`` subclasses
whose ``code`` is an error shape of the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sagestep.local.patching import Patcher


@dataclass(frozen=True)
class MotoService:
    """A service for moto's server, laid out as moto lays out its own.

    :param name: the boto3 service name (``translate``); requests signed for it are routed here.
    :param backends: the service's ``moto.core.base_backend.BackendDict``.
    :param url_bases: regular expressions of the service's hosts (``urls.py``'s ``url_bases``).
    :param url_paths: path pattern (``{0}`` is the host) → handler, usually ``Response.dispatch``.
    """

    name: str
    backends: Any
    url_bases: Sequence[str]
    url_paths: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


def add_moto_service(patcher: Patcher, service: MotoService) -> None:
    """Make moto's server (and ``mock_aws``) answer ``service``'s requests until ``patcher`` restores."""
    import moto.backend_index as backend_index
    import moto.backends as backends

    known = {name for name, _ in backend_index.backend_url_patterns}
    if service.name in known:
        raise ValueError(f"moto has a {service.name} backend already; patch it instead of adding one")

    # moto reads a backend's URLs from the urls module beside its models module.
    urls_module = SimpleNamespace(url_bases=list(service.url_bases), url_paths=dict(service.url_paths))
    patcher.replace(service.backends.backend, "_url_module", property(lambda _backend: urls_module))

    # The server's dispatcher holds this very list, so the new patterns route requests at once.
    patcher.prepend(backend_index.backend_url_patterns, *((service.name, re.compile(u)) for u in service.url_bases))

    original_get_backend = backends.get_backend

    def get_backend(name: str) -> Any:
        return service.backends if name == service.name else original_get_backend(name)  # type: ignore[call-overload]

    patcher.replace(backends, "get_backend", get_backend)
