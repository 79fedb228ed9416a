"""X/Y/Z plot without a model: a stand-in generator shows the cell order, the Z grids, the include options, seeds
and interruption."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from PIL import Image

from modules.core.errors import JobCancelled
from modules.core.job_queue import JobQueue
from modules.core.params import Txt2ImgRequest
from modules.core.paths import Paths
from modules.core.progress import ProgressTracker
from modules.core.results import GeneratedImage, GenerationResult
from modules.core.scripts.base import ScriptServices
from modules.core.scripts.registry import find_script, run_script
from modules.core.settings import SettingsStore


def _services(tmp_path, made: list, stop_after: int | None = None) -> ScriptServices:
    progress = ProgressTracker()
    jobs = JobQueue(progress)

    def fake(request):
        made.append(request)
        if stop_after is not None and len(made) > stop_after:
            jobs.running.token.cancel()
        shade = (int(request.steps) * 40 % 256, int(request.cfg_scale) * 20 % 256, len(made) * 10 % 256)
        image = GeneratedImage(image=Image.new("RGB", (16, 16), shade), seed=request.seed,
                               infotext=f"{request.prompt}\nSteps: {request.steps}, Seed: {request.seed}")
        snapshot = progress.snapshot()
        made[-1] = (request, snapshot.job_no, snapshot.job_count)
        return GenerationResult(images=(image,), prompt=request.prompt, negative_prompt="", seed=request.seed,
                                sampler_name="Euler", schedule_label="Automatic", steps=request.steps,
                                cfg_scale=request.cfg_scale, width=16, height=16, batch_size=1, model_name="m",
                                model_hash=None, job_timestamp="", interrupted=jobs.running.token.cancelled)
    return ScriptServices(txt2img=fake, img2img=fake, jobs=jobs, progress=progress,
                          models=SimpleNamespace(loaded=None), catalog=None,
                          settings=SettingsStore(tmp_path / "config.json"),
                          paths=Paths.from_root(tmp_path, install_dir=tmp_path))


def _run(services, **args):
    script = find_script("X/Y/Z plot", "txt2img")
    request = Txt2ImgRequest(prompt="p", steps=1, width=16, height=16, seed=-1)
    return run_script(services, script, request, {**script.defaults(), **args})


def test_three_axes_make_one_grid_per_z_and_a_grid_of_grids(tmp_path):
    made: list = []
    result = _run(_services(tmp_path, made), x_type="Steps", x_values="1-2", y_type="CFG Scale", y_values="3,5,7",
                  z_type="Prompt S/R", z_values="p, q", draw_legend=False, include_sub_grids=True,
                  include_lone_images=True)
    requests = [r for r, _, _ in made]
    assert len(requests) == 12
    assert [(r.steps, r.cfg_scale, r.prompt) for r in requests[:3]] == [(1, 3.0, "p"), (2, 3.0, "p"), (1, 5.0, "p")]
    assert requests[6].prompt == "q", "z is the outer loop"
    assert len({r.seed for r in requests}) == 1 and requests[0].seed != -1, "-1 resolved once"
    assert all(r.do_not_save_grid for r in requests)
    assert [(no, count) for _, no, count in made][:2] == [(0, 12), (1, 12)], "progress counts every cell"
    assert result.grid.image.size == (2 * 32, 48), "two z grids of 2x3 cells side by side"
    assert [g.image.size for g in result.extra_grids] == [(32, 48), (32, 48)]
    assert len(result.images) == 12 and result.index_of_first_image == 3
    names = sorted(p.name for p in (tmp_path / "outputs" / "txt2img-grids").rglob("*.png"))
    assert names == ["xyz_grid-0000.png", "xyz_grid-0001.png", "xyz_grid-0002.png"]
    assert "Z Type: Prompt S/R" in result.grid.infotext and "Fixed" not in result.grid.infotext


def test_defaults_show_only_the_grid_and_keep_minus_one(tmp_path):
    made: list = []
    result = _run(_services(tmp_path, made), x_type="Seed", x_values="-1, 5", no_fixed_seeds=True)
    seeds = [r.seed for r, _, _ in made]
    assert seeds == [-1, 5]
    assert result.images == () and result.extra_grids == () and result.gallery == (result.grid,)
    made.clear()
    fixed = _run(_services(tmp_path, made), x_type="Seed", x_values="-1, 5")
    assert made[0][0].seed != -1 and made[1][0].seed == 5
    assert f"Fixed X Values: \"{made[0][0].seed}, 5\"" in fixed.grid.infotext


def test_interrupt_stops_between_cells(tmp_path):
    made: list = []
    result = _run(_services(tmp_path, made, stop_after=1), x_type="Steps", x_values="1-4", draw_legend=False)
    assert len(made) == 2 and result.interrupted
    assert result.grid.image.size == (64, 16), "missing cells are black"
    assert result.grid.image.getpixel((40, 8)) == (0, 0, 0)


def test_nothing_runs_when_interrupted_first(tmp_path):
    services = _services(tmp_path, [])
    script = find_script("X/Y/Z plot", "txt2img")
    with services.jobs.turn("outer") as job:
        job.token.cancel()
        with pytest.raises(JobCancelled):
            run_script(services, script, Txt2ImgRequest(steps=1), {**script.defaults(), "x_values": "1, 2"})
    assert dataclasses.is_dataclass(services)
