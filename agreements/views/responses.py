"""How every file the portal hands out is answered: named, never sniffed, never cached.

The signed PDF, a draft's preview, the framework document, the goals' PDF and the CSV
export all go only to the user who asked, and a browser must neither guess another type
(a file sniffed as HTML would run in our origin) nor keep a copy.
"""

from django.http import FileResponse, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header


def private_file_response(
    body, *, filename: str, content_type: str, as_attachment: bool = True
) -> HttpResponse:
    """``body`` (bytes, or an open file, which is streamed) as a download or shown inline."""
    if isinstance(body, bytes):
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=as_attachment, filename=filename
        )
    else:
        response = FileResponse(
            body, as_attachment=as_attachment, filename=filename, content_type=content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
