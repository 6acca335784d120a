"""What the wizard, the review and the history show of the comments: threads by section,
their counts per step, and the forms. Built in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from ..enums import AgreementStatus
from .comments import EDIT_WINDOW
from .forms import ThreadForm
from .models import Comment, Thread
from .sections import SECTION_BY_KEY, sections_of_step

# The session key of a comment text that was refused, offered again in the form.
KEPT_TEXT = "negotiation-kept-text-%s"


def threads_of(agreement) -> list[Thread]:
    """The agreement's threads with their comments, oldest first (two queries)."""
    return list(
        Thread.objects.filter(agreement_id=agreement.pk).prefetch_related(
            Prefetch("comments", queryset=Comment.objects.order_by("created_at", "pk"))
        )
    )


def open_counts_by_step(threads: list[Thread]) -> dict[str, int]:
    """Open threads per wizard step (the step list's badges); the review gets them all."""
    counts: dict[str, int] = {}
    for thread in threads:
        if thread.is_resolved:
            continue
        section = SECTION_BY_KEY.get(thread.section)
        if section:
            counts[section.step] = counts.get(section.step, 0) + 1
            counts["pruefen"] = counts.get("pruefen", 0) + 1
    return counts


def comment_panel(request, agreement, step_slug: str) -> dict:
    """The context of ``_comments.html`` for one wizard step (or "pruefen": all sections)."""
    threads = threads_of(agreement)
    now = timezone.now()
    for thread in threads:
        for comment in thread.comments.all():
            comment.editable = (
                comment.author_id == request.user.pk and now - comment.created_at <= EDIT_WINDOW
            )
    sections = sections_of_step(step_slug)
    keys = {section.key for section in sections}
    kept = request.session.pop(KEPT_TEXT % agreement.pk, "")
    return {
        "comment_sections": [
            (section, [t for t in threads if t.section == section.key]) for section in sections
        ],
        "comment_counts": open_counts_by_step(threads),
        "open_threads": [t for t in threads if not t.is_resolved and t.section in keys],
        "can_comment": agreement.status == AgreementStatus.DRAFT,
        "thread_form": ThreadForm(
            initial={"section": sections[0].key if sections else "", "body": kept}
        ),
        "section_choices": [(s.key, s.title) for s in sections],
        "comments_next": request.get_full_path(),
    }
