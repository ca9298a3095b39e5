from .factory import get_rope

__all__ = ["get_rope"]
