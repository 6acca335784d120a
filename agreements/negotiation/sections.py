"""The sections of the SLA a comment can be about, and the wizard step that fills each.

The keys are stable (stored on every thread); the titles are the document's headings.
The step slugs are those of ``agreements.wizard.STEPS``; the test in
tests/test_negotiation.py holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    key: str  # "1" … "11", "appendix"
    title: str
    step: str  # the wizard step that fills it
    anchor: str  # its id in templates/agreements/document.html


SECTIONS = (
    Section("1", _("§1 Einleitung"), "grunddaten", "sla-1"),
    Section("2", _("§2 Geltungsbereich"), "grunddaten", "sla-2"),
    Section("3", _("§3 Parteien"), "parteien", "sla-3"),
    Section("4", _("§4 Rahmen"), "rahmen", "sla-4"),
    Section("5", _("§5 Definitionen"), "definitionen", "sla-5"),
    Section("6", _("§6 Zielsetzungen"), "ziele", "sla-6"),
    Section("7", _("§7 Metriken"), "ziele", "sla-7"),
    Section("8", _("§8 Verantwortungsbereiche"), "verantwortung", "sla-8"),
    Section("9", _("§9 Reporting"), "reporting", "sla-9"),
    Section("10", _("§10 Performance-Optimierung"), "reporting", "sla-10"),
    Section("11", _("§11 Erneuerung"), "reporting", "sla-11"),
    Section("appendix", _("Anhang: Funnel"), "funnel", "sla-appendix"),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}
SECTION_CHOICES = [(section.key, section.title) for section in SECTIONS]


def sections_of_step(step_slug: str) -> list[Section]:
    """The sections a wizard step fills; every section for the review ("pruefen")."""
    if step_slug == "pruefen":
        return list(SECTIONS)
    return [section for section in SECTIONS if section.step == step_slug]
