from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Signing out (accounts) ends the session's panel sockets; accounts does not
        # import chat, it only sends the signal.
        from accounts.signin import admin_signed_out

        from .realtime import panel_sockets

        admin_signed_out.connect(
            panel_sockets.on_admin_signed_out, dispatch_uid="chat.panel_sockets.end_session"
        )
