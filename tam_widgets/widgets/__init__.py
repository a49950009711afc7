"""The token map explorer in notebooks (:class:`TokenMapView`) and as a static page (:func:`to_html`).

    import tam_widgets as tw
    view = tw.TokenMapView(exp)      # display(exp) shows the same
    exp.to_html("explanation.html")  # one offline file
"""

from .html import to_html
from .payload import Payload, build_payload
from .view import TokenMapView, bundle

__all__ = ["Payload", "TokenMapView", "build_payload", "bundle", "to_html"]
