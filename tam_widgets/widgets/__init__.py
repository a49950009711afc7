"""The token map explorer in notebooks (:class:`TokenMapView`) and as a static page (:func:`to_html`).

    import tam_widgets as tw
    view = tw.TokenMapView(exp)      # display(exp) shows the same
    exp.to_html("explanation.html")  # one offline file
"""

from ..record.display import register_viewer
from .html import to_html
from .payload import Payload, build_payload
from .view import TokenMapView, bundle

register_viewer(TokenMapView, to_html)

__all__ = ["Payload", "TokenMapView", "build_payload", "bundle", "to_html"]
