"""The console shows a tqdm bar per batch of a real job."""
from __future__ import annotations

import io

from modules.core.params import Txt2ImgRequest
from modules.interfaces.console_progress import ConsoleProgress
from tests.conftest import install_checkpoint


def test_a_bar_per_batch_reaches_the_step_count(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd15"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    console = io.StringIO()
    ctx.progress.listen(ConsoleProgress(console))
    ctx.generation.txt2img(Txt2ImgRequest(prompt="a cat", steps=3, width=64, height=64, n_iter=2,
                                          sampler_name="Euler", save_images=False))
    text = console.getvalue()
    assert "txt2img 1/2" in text and "txt2img 2/2" in text
    assert text.count("3/3") >= 2, text
