from django.apps import AppConfig


class TelegramBridgeConfig(AppConfig):
    name = "telegram_bridge"
    verbose_name = "Telegram bridge"

    def ready(self) -> None:
        from . import outbox

        outbox.connect()
