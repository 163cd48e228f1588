"""LMS providers behind one interface (``gateway.providers.base.LmsProvider``)."""
