"""Chat model providers: `extractive` (offline default), `openai` (any OpenAI-compatible endpoint),
`local` (a small GGUF model on the CPU, optional extra). `make_chat_model` picks one from settings."""

from __future__ import annotations

from core.chat.provider import ChatModel
from core.settings import Settings

PROVIDERS = ("extractive", "openai", "local")


def make_chat_model(settings: Settings) -> ChatModel:
    """The configured provider (`KARIZ_CHAT_PROVIDER`); nothing is downloaded."""
    if settings.chat_provider == "openai":
        from core.chat.providers.openai_compatible import OpenAICompatibleChat

        return OpenAICompatibleChat.from_settings(settings)
    if settings.chat_provider == "local":
        from core.chat.providers.local_gguf import LocalGGUFChat

        return LocalGGUFChat.from_settings(settings)
    from core.chat.providers.extractive import ExtractiveChat

    return ExtractiveChat()
