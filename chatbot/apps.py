from django.apps import AppConfig


class ChatbotConfig(AppConfig):
    name = "chatbot"
    verbose_name = "Chatbot"

    def ready(self) -> None:
        from chatbot import database_pools

        database_pools.close_at_exit()
