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
        # SQLite's insights indexes (chat/insights.py), re-made after every migrate: a
        # migration that rebuilds the threads table on SQLite drops indexes Django does not know.
        from django.db.models.signals import post_migrate

        from . import insights

        post_migrate.connect(
            insights.ensure_sqlite_indexes, sender=self, dispatch_uid="chat.insights.indexes"
        )
