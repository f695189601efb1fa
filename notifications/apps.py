from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Visitor emails"

    def ready(self) -> None:
        from . import outbox

        outbox.connect()
