"""Pages open to the public, without signing in (mounted under /public/)."""

from rectification.views.commitments import public_urlpatterns

urlpatterns = public_urlpatterns
