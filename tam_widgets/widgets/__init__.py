"""The token map explorer in notebooks (:class:`TokenMapView`) and as a static page (:func:`to_html`).

    import tam_widgets as tw
    view = tw.TokenMapView(exp)      # display(exp) shows the same
    exp.to_html("explanation.html")  # one offline file

Every view is a thin :class:`RecordsWidget` (``base.py``) whose synced attributes are specified
once in ``state.py``; :func:`page_document` / :func:`write_page` (``html.py``) write any view as one
offline page. Each view's display output also carries a PNG of what it shows and a text summary
(``snapshot.py``), which a saved notebook keeps where the widget cannot run; ``snapshot=False`` or
``tam_widgets.widgets.snapshot.ENABLED = False`` leaves them out.
"""

from ..record.display import register_viewer
from .base import RecordsWidget
from .board import FailureCaseBoard  # the failure-case board of a study (issue #13)
from .compare import CompareView
from .html import page_document, to_html, write_page
from .payload import Payload, build_payload
from .timeline import ChatTimeline
from .view import TokenMapView, bundle

register_viewer(TokenMapView, to_html)  # the record shows itself through this hook; it never imports widgets

__all__ = [
    "ChatTimeline",
    "CompareView",
    "FailureCaseBoard",
    "Payload", "RecordsWidget", "TokenMapView", "build_payload", "bundle", "page_document", "to_html", "write_page",
]
