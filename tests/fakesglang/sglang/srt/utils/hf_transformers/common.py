def get_context_length(config):
    """The context length of a model from its HF config: max_position_embeddings, times a linear factor."""
    scaling = getattr(config, "rope_scaling", None) or {}
    factor = scaling.get("factor", 1) if scaling.get("rope_type") == "linear" else 1
    return int(factor * config.max_position_embeddings)
