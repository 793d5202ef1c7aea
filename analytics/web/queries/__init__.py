"""Read-only queries behind the hub's pages.  Every function takes the caller's
:class:`~analytics.web.tenancy.StoreScope` and returns dataclasses; none imports Flask."""
