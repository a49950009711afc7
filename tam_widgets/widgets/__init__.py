"""The token map explorer in notebooks (:class:`TokenMapView`) and as a static page (:func:`to_html`).

    import tam_widgets as tw
    view = tw.TokenMapView(exp)      # display(exp) shows the same
    exp.to_html("explanation.html")  # one offline file

Every view is a thin :class:`RecordsWidget` (``base.py``) whose synced attributes are specified
once in ``state.py``; :func:`page_document` / :func:`write_page` (``html.py``) write any view as one
offline page.
"""

from .base import RecordsWidget
from .html import page_document, to_html, write_page
from .payload import Payload, build_payload
from .view import TokenMapView, bundle

try:  # the record learns how to show itself through this hook (it never imports the widgets)
    from ..record import register_viewer
except ImportError:  # a record module without the hook still imports the view lazily
    register_viewer = None
if register_viewer is not None:
    register_viewer(TokenMapView, to_html)

__all__ = [
    "Payload", "RecordsWidget", "TokenMapView", "build_payload", "bundle", "page_document", "to_html", "write_page",
]
