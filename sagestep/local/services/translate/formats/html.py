"""text/html: text nodes and the ``alt``/``title``/``placeholder`` attributes translated; markup, scripts,
styles and code untouched; doctype and encoding kept."""

from __future__ import annotations

import functools
import re
from typing import Any

import lxml.etree as etree
import lxml.html

from sagestep.local.services.translate.formats.common import Batch, DocumentError, setter
from sagestep.local.services.translate.translator import TranslateTexts

#: Elements whose content is not prose: translating it would break the page (scripts, styles) or the code shown.
UNTRANSLATED = frozenset({"script", "style", "code", "pre", "noscript", "template", "textarea", "kbd", "samp", "var"})
ATTRIBUTES = ("alt", "title", "placeholder")


def translate_html(data: bytes, translate: TranslateTexts) -> bytes:
    """Translate an HTML document (or fragment) in place of its text, re-serialised in its own encoding."""
    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"The HTML document could not be parsed: {exc}") from None
    tree = root.getroottree()
    batch = Batch()
    _collect(root, batch)
    batch.run(translate)
    encoding = tree.docinfo.encoding or "utf-8"
    if re.search(rb"<!doctype", data[:4096], re.IGNORECASE):
        body: bytes = lxml.html.tostring(tree, encoding=encoding, doctype=tree.docinfo.doctype, method="html")
    else:  # libxml2 reports a default HTML 4 doctype for a page without one: do not add it
        body = lxml.html.tostring(root, encoding=encoding, method="html")
    return body


def _collect(element: Any, batch: Batch) -> None:
    if isinstance(element.tag, str):  # not a comment or processing instruction
        if element.tag.lower() in UNTRANSLATED:
            return
        for name in ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                batch.add(value, functools.partial(element.set, name))
        batch.add(element.text, setter(element, "text"))
    for child in element:
        _collect(child, batch)
        batch.add(child.tail, setter(child, "tail"))
