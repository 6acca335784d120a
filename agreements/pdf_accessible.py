"""What WeasyPrint's tagged PDF/A-3a lacks for PDF/UA-1, added while it writes the file.

WeasyPrint (70) tags the document (headings, lists, tables with their header cells,
figures with the SVG ``<title>`` as ``/Alt``, ``/Lang`` from ``<html lang>``) and
identifies it as PDF/A-3a. Two things are left to us:

* **PDF/UA-1 identification.** A file conforms to one PDF/A part and one PDF/UA part at
  once, but WeasyPrint writes the XMP of one variant only. ``identify_pdf_ua`` adds
  ``pdfuaid:part`` to the same ``rdf:RDF``, with the extension schema that PDF/A
  requires for every property outside its predefined schemas (ISO 19005-3, 6.6.2.3).
* **Page header and footer as artifacts.** WeasyPrint marks the text of the page-margin
  boxes (our running header, "Seite N von M") as marked content with an MCID but links it
  to no structure element; PDF/UA wants every piece of content either in the structure
  tree or marked ``/Artifact``. ``pagination_as_artifacts`` turns the unlinked ones into
  ``/Artifact <</Type /Pagination>>`` and rebuilds each page's entry of the parent tree.

``tab_order_follows_structure`` also sets each page's tab order to the structure's, which
PDF/UA asks of pages with links (the signature block's "Nachweis: Prüfprotokoll").

All of it works on WeasyPrint's own objects before the file is written, so the PDF is written
once: a second pass with a PDF library would parse and rewrite every render (and the
seal, the attachments' ``/AF`` and the fonts would all have to survive it).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, fromstring, register_namespace, tostring

import pydyf

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFUAID = "http://www.aiim.org/pdfua/ns/id/"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"

for _prefix, _uri in (
    ("pdfuaid", PDFUAID),
    ("pdfaExtension", PDFA_EXTENSION),
    ("pdfaSchema", PDFA_SCHEMA),
    ("pdfaProperty", PDFA_PROPERTY),
):
    register_namespace(_prefix, _uri)


def identify_pdf_ua(document) -> None:
    """Make a rendered WeasyPrint ``Document`` write ``pdfuaid:part="1"`` into its XMP.

    Call between ``HTML.render()`` and ``Document.write_pdf()``.
    """
    metadata = document.metadata
    generate = metadata.generate_rdf_metadata

    def generate_with_pdf_ua(variant, version, conformance) -> bytes:
        # WeasyPrint's own RDF, built from our templates' escaped metadata.
        rdf = fromstring(generate(variant, version, conformance))  # noqa: S314
        rdf.append(_pdf_ua_extension_schema())
        identification = SubElement(rdf, f"{{{RDF}}}Description")
        identification.set(f"{{{RDF}}}about", "")
        identification.set(f"{{{PDFUAID}}}part", "1")
        return tostring(rdf, encoding="utf-8")

    metadata.generate_rdf_metadata = generate_with_pdf_ua


def _pdf_ua_extension_schema() -> Element:
    """The PDF/A extension schema that declares the ``pdfuaid`` namespace and its part."""

    def resource(parent: Element) -> Element:
        item = SubElement(parent, f"{{{RDF}}}li")
        item.set(f"{{{RDF}}}parseType", "Resource")
        return item

    def text(parent: Element, tag: str, value: str) -> None:
        SubElement(parent, tag).text = value

    description = Element(f"{{{RDF}}}Description")
    description.set(f"{{{RDF}}}about", "")
    schemas = SubElement(SubElement(description, f"{{{PDFA_EXTENSION}}}schemas"), f"{{{RDF}}}Bag")
    schema = resource(schemas)
    text(schema, f"{{{PDFA_SCHEMA}}}schema", "PDF/UA Universal Accessibility Schema")
    text(schema, f"{{{PDFA_SCHEMA}}}namespaceURI", PDFUAID)
    text(schema, f"{{{PDFA_SCHEMA}}}prefix", "pdfuaid")
    properties = SubElement(SubElement(schema, f"{{{PDFA_SCHEMA}}}property"), f"{{{RDF}}}Seq")
    part = resource(properties)
    text(part, f"{{{PDFA_PROPERTY}}}name", "part")
    text(part, f"{{{PDFA_PROPERTY}}}valueType", "Integer")
    text(part, f"{{{PDFA_PROPERTY}}}category", "internal")
    text(part, f"{{{PDFA_PROPERTY}}}description", "Part of ISO 14289 to which the file conforms")
    return description


def pagination_as_artifacts(pdf: pydyf.PDF) -> None:
    """Mark the page-margin boxes' text ``/Artifact``; a ``write_pdf`` finisher's step.

    Which marked content the structure tree holds is read from the tree itself (every
    element below the root with an MCID in its ``/K``), not guessed from positions; each page's
    parent-tree array is then rebuilt from the same reading, MCID by MCID.
    """
    root = _resolve(pdf, pdf.catalog.get("StructTreeRoot"))
    if root is None:
        return
    linked: dict[bytes, dict[int, bytes]] = {}  # page reference -> MCID -> element
    # Walked from the root: WeasyPrint also makes elements for the margin boxes, which
    # it then leaves out of the tree.
    pending = list(root["K"])
    while pending:
        element = _resolve(pdf, pending.pop())
        if not isinstance(element, pydyf.Dictionary) or element.get("Type") != "/StructElem":
            continue  # an annotation's /OBJR
        for kid in element.get("K", ()):
            if isinstance(kid, int):
                linked.setdefault(element["Pg"], {})[kid] = element.reference
            else:
                pending.append(kid)
    nums = _resolve(pdf, root["ParentTree"])["Nums"]
    for index, page_reference in enumerate(pdf.page_references):
        page = _resolve(pdf, page_reference)
        elements = linked.get(page_reference, {})
        _unlinked_as_artifacts(_resolve(pdf, page["Contents"]), elements)
        key = nums.index(index)  # the pages' keys are 0..n-1, in page order
        size = max(elements, default=-1) + 1
        nums[key + 1] = pydyf.Array(elements.get(mcid, "null") for mcid in range(size))


def tab_order_follows_structure(pdf: pydyf.PDF) -> None:
    """``/Tabs /S`` on every page: links are reached in the structure's order (PDF/UA 7.18.3).

    A ``write_pdf`` finisher's step; WeasyPrint leaves the tab order to the reader.
    """
    for page_reference in pdf.page_references:
        _resolve(pdf, page_reference)["Tabs"] = "/S"


def _unlinked_as_artifacts(stream: pydyf.Stream, linked: dict[int, bytes]) -> None:
    """``/Span <</MCID n>> BDC`` of an MCID no element holds -> ``/Artifact <<...>> BDC``."""
    operations = stream.stream
    for position, operation in enumerate(operations):
        if (
            isinstance(operation, pydyf.Dictionary)
            and "MCID" in operation
            and operation["MCID"] not in linked
            and position > 0
        ):
            operations[position - 1] = "/Artifact"
            operations[position] = pydyf.Dictionary({"Type": "/Pagination"})


def _resolve(pdf: pydyf.PDF, reference):
    """The object behind ``b"12 0 R"`` (pydyf keeps references as bytes)."""
    if reference is None:
        return None
    if isinstance(reference, bytes | str):
        return pdf.objects[int(reference.split()[0])]
    return reference
