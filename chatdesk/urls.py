from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from accounts import views as accounts_views
from chat import availability_api, desk_api, insights_views
from chat import views as chat_views
from chat import widget as chat_widget
from chat.attachments import views as upload_views
from notifications import views as email_views
from telegram_bridge import views as telegram_views
from telegram_bridge import visitor_link

from . import health, views

# Unparseable bodies are refused in the API's JSON shape, not Django's HTML page.


handler400 = "chatdesk.views.bad_request"
handler500 = "chatdesk.views.server_error"

admin.site.site_header = "chatdesk staff"
admin.site.site_title = "chatdesk staff"

urlpatterns = [
    # 6.1 public pages
    path("", chat_views.visitor_page, name="visitor"),
    path("login", accounts_views.login_page, name="login"),
    path("favicon.ico", views.favicon),
    # Load balancers and monitoring (exempt from the HTTPS redirect, see settings).
    path("healthz", health.healthz, name="healthz"),
    # 6.2 sign-in
    path("request-otp", accounts_views.request_otp, name="request-otp"),
    path("verify-otp", accounts_views.verify_otp, name="verify-otp"),
    path("login/approval", accounts_views.approval_status, name="login-approval"),
    path("admin", chat_views.admin_page, name="admin-panel"),
    path("logout", accounts_views.logout, name="logout"),
    # 6.3 API
    path("widget/status", chat_widget.widget_status, name="widget-status"),
    path("api/threads", chat_views.api_threads),
    path("api/messages", chat_views.api_messages),
    path("api/messages/clear", chat_views.api_clear_thread),
    path("api/messages/clear_all", chat_views.api_clear_all),
    path("api/status", health.api_status, name="api-status"),
    # The desk (issue 13): views' counts, agents, canned replies.
    path("api/desk", desk_api.api_desk),
    path("api/canned", desk_api.api_canned),
    path("api/canned/<int:reply_id>", desk_api.api_canned_update),
    path("api/canned/<int:reply_id>/delete", desk_api.api_canned_delete),
    # Insights (issue 13): the desk's numbers over a range of days.
    path("admin/insights", insights_views.insights_page, name="insights"),
    path("api/insights", insights_views.api_insights, name="api-insights"),
    # Visitors' emails (issue 14): reopen a conversation, unsubscribe, ask for the transcript.
    path("api/availability", availability_api.api_availability, name="availability"),
    path("c/<str:token>", email_views.resume, name="email-resume"),
    path("email/unsubscribe/<str:token>", email_views.unsubscribe, name="email-unsubscribe"),
    path("api/email/transcript", email_views.transcript, name="email-transcript"),
    path("api/upload/image", upload_views.upload_image),
    path("api/upload/audio", upload_views.upload_audio),
    re_path(r"^uploads/(?P<folder>[^/]+)/(?P<filename>[^/]+)$", upload_views.serve_upload),
    # Telegram delivers updates here (authenticated by its secret header, not CSRF).
    path("telegram/webhook", telegram_views.webhook, name="telegram-webhook"),
    path("api/telegram/continue", visitor_link.continue_view, name="telegram-continue"),
    # Languages: the pages' switch posts to /i18n/setlang/; their scripts read /jsi18n/.
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Staff: /admin belongs to the chat panel, as the contract says.
    path("django-admin/", admin.site.urls),
]
