"""XLIFF 1.2: each ``<trans-unit>``'s ``<target>`` written from its ``<source>``, inline markup kept in place.

The target is a copy of the source whose text is translated: ``<g>`` and ``<mrk>`` keep their translated
content, ``<x/>``, ``<bx/>``, ``<ex/>`` stay where they were, and the native code inside ``<ph>``, ``<bpt>``,
``<ept>``, ``<it>`` is not text to translate. Translate accepts XLIFF 1.2 only: another version is a per-file
customer error.
"""

from __future__ import annotations

import copy
from typing import Any

import lxml.etree as etree

from sagestep.local.services.translate.formats.common import Batch, DocumentError, setter
from sagestep.local.services.translate.translator import TranslateTexts

NAMESPACE = "urn:oasis:names:tc:xliff:document:1.2"
_NATIVE_CODE = frozenset({"ph", "bpt", "ept", "it"})


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def translate_xliff(data: bytes, translate: TranslateTexts, target_language: str) -> bytes:
    """Translate an XLIFF 1.2 document into ``target_language`` (set as each ``<file>``'s ``target-language``)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"The XLIFF document is not well-formed XML: {exc}") from None
    if _local(root.tag) != "xliff":
        raise DocumentError("The document is not XLIFF: its root element is not <xliff>.")
    version = root.get("version")
    if version != "1.2":
        raise DocumentError(f"XLIFF version {version} is not supported; use XLIFF 1.2.", "UNSUPPORTED_XLIFF_VERSION")
    namespace = etree.QName(root.tag).namespace
    tag = (lambda name: f"{{{namespace}}}{name}") if namespace else (lambda name: name)
    batch = Batch()
    for file in root.iter(tag("file")):
        file.set("target-language", target_language)
    for unit in root.iter(tag("trans-unit")):
        source = unit.find(tag("source"))
        if source is None or unit.get("translate") == "no":
            continue
        target = unit.find(tag("target"))
        if target is None:
            target = etree.Element(tag("target"))
            source.addnext(target)
            target.tail = source.tail
        tail, attributes = target.tail, dict(target.attrib)
        target.clear()  # text, children, tail and attributes
        target.tail = tail
        target.attrib.update(attributes)
        target.set("state", "translated")
        target.text = source.text
        for child in source:
            target.append(copy.deepcopy(child))
        _collect(target, batch)
    batch.run(translate)
    body: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return body


def _collect(element: Any, batch: Batch) -> None:
    """The text of ``element`` and its inline descendants, native code (``<ph>`` etc.) left out; the text after
    an inline element (its tail) belongs to the parent and is translated with it."""
    if _local(element.tag) in _NATIVE_CODE:
        return
    batch.add(element.text, setter(element, "text"))
    for child in element:
        _collect(child, batch)
        batch.add(child.tail, setter(child, "tail"))
