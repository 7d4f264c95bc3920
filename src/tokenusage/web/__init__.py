"""The signed-in web dashboard: `tokenusage.web.app.create_app(settings)` builds the ASGI app.

It never talks to httpx or SQL itself: every figure on a page comes from `DashboardService`,
and admin accounts from `tokenusage.service.admins`.
"""
