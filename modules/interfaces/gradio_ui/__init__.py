"""modules/interfaces/gradio_ui package."""
