"""Write BENCHMARKS.md from bench/results/*.json, so every table there is the JSON's numbers.

.venv/bin/python bench/summarize.py        (make bench runs it last)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"
OUT = HERE.parent / "BENCHMARKS.md"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render(d: dict) -> str:
    rows = [[r["resolution"], r["frames"], r["render_fps"], r["total_fps"], r["render_fps_cpu"]] for r in d["rows"]]
    return table(["resolution", "frames", "render fps", "fps incl. encoding", "render fps per CPU-s"], rows)


def mvs_middlebury(d: dict) -> str:
    methods = d.get(
        "methods", {"ours": {**d["ours"], "label": "mannequin MVS", "at_sgbm_density": d["ours_at_sgbm_density"]}}
    )
    rows = []
    for r in methods.values():
        ratio = r.get("cpu_time_ratio_over_sgbm", r["cpu_s"] / d["sgbm"]["cpu_s"])
        rows.append([r["label"], r["bad2_pct"], r["density_pct"], r["abs_rel"], r["at_sgbm_density"]["bad2_pct"],
                     r["cpu_s"], f"{ratio:.1f}x"])  # fmt: skip
    g = d["sgbm"]
    rows.append(["OpenCV StereoSGBM", g["bad2_pct"], g["density_pct"], g["abs_rel"], g["bad2_pct"], g["cpu_s"], "1x"])
    w, h = d["evaluated_size"]
    head = (
        f"Middlebury 2014 Motorcycle at {w}x{h}; bad-2px in % of GT pixels where the method gives depth, and at"
        " SGBM's density (our most confident pixels); median CPU s of one thread.\n\n"
    )
    tail = f"\n\nCPU time ratio ours / SGBM: {d['cpu_time_ratio_ours_over_sgbm']:.1f}x"
    if "cpu_speedup_ours_over_torch" in d:
        tail += f"; the torch path takes {d['cpu_speedup_ours_over_torch']:.1f}x the CPU time of the numba path."
    cols = ["method", "bad-2px %", "density %", "AbsRel", "bad-2px % at SGBM density", "CPU s", "x SGBM"]
    return head + table(cols, rows) + tail


def mvs_scaling(d: dict) -> str:
    out = []
    if (c := d.get("backend_comparison")) is not None:
        fps = c["frames_per_s"]
        out.append(
            f"Default setting (160x120, 48 planes, 4 views), interleaved on one clip: numba {fps['numba']:.2f} "
            f"frames/s, torch {fps['torch']:.2f} frames/s: **{c['speedup_numba_over_torch']:.2f}x**."
        )
    sections = [("by_resolution", "resolution"), ("by_planes", "planes"), ("by_views", "source views")]
    if "by_length" in d:
        sections.append(("by_length", "clip length"))
    for key, label in sections:
        rows = [
            [
                f"{r['width']}x{r['height']}",
                r["frames"],
                r["planes"],
                r["views"],
                r["frames_per_s"],
                1000 * r["cpu_s"]["sparse"] / r["frames"],
                1000 * r["cpu_s"]["sweep"] / r["frames"],
                1000 * r["cpu_s"]["consistency"] / r["frames"],
                r["abs_rel"],
                r["coverage"],
                r["peak_rss_mb"],
            ]
            for r in d[key]
        ]
        cols = ["size", "frames", "planes", "views", "frames/s", "sparse ms/frame", "sweep ms/frame",
                "consistency ms/frame", "AbsRel", "coverage", "peak RSS MB"]  # fmt: skip
        out.append(f"By {label}:\n\n" + table(cols, rows))
    samples = d["sample_clips"] + d.get("sample_clips_torch", [])
    rows = [
        [r["clip"], r.get("backend", "torch"), r["trajectory"], r["hfov_deg"], r["pose_scale"], r["abs_rel"],
         r["coverage"], r["frames_per_s"]]
        for r in samples
    ]  # fmt: skip
    out.append(
        "Clean sample clips (exact depth):\n\n"
        + table(["clip", "backend", "path", "HFOV", "pose scale", "AbsRel", "coverage", "frames/s"], rows)
    )
    rows = [[name, f["slope"], f["r2"]] for name, f in d["fits"].items()]
    out.append("Log-log slopes (1 = linear):\n\n" + table(["fit", "slope", "R²"], rows))
    if (pf := d.get("per_frame_by_length_s")) is not None:
        lengths = [r["frames"] for r in d["by_length"]]
        out.append(
            f"Per frame, from {lengths[0]} to {lengths[-1]} frames: the sweep stays at "
            f"{1000 * pf['sweep'][0]:.0f}-{1000 * pf['sweep'][-1]:.0f} ms and the consistency stage at "
            f"{1000 * pf['consistency'][0]:.0f}-{1000 * pf['consistency'][-1]:.0f} ms; the sparse stage grows from "
            f"{1000 * pf['sparse'][0]:.0f} to {1000 * pf['sparse'][-1]:.0f} ms because choosing the sources of a "
            "frame scans every frame of the clip (angle and visibility of each candidate), so it is O(N) per frame "
            "and O(N²) per clip. It stays a minor term at curation's max_frames (24 by default)."
        )
    lm = d["linear_model"]
    out.append(
        f"Cost model (R² {lm['r2']:.3f}): {lm['ns_per_pixel_plane_view']:.1f} ns per pixel x plane x view "
        f"(matching) + {lm['ns_per_pixel_plane']:.1f} ns per pixel x plane (SGM, winner-take-all)."
    )
    return "\n\n".join(out)


def mvs_gpu(d: dict) -> str:
    rows = [
        [f"{r['width']}x{r['height']}", r["cpu_frames_per_s"], r["cuda_frames_per_s"], r["speedup_cuda_over_cpu"],
         r["median_rel_diff"], r["cuda_abs_rel"]]
        for r in d["rows"]
    ]  # fmt: skip
    return table(["size", "CPU frames/s", "CUDA frames/s", "speed-up", "median rel. depth diff", "CUDA AbsRel"], rows)


def curation(d: dict) -> str:
    rows = [
        [r["runner"], r["workers"], r["wall_s"], r["clips_per_s"], r.get("task_s_median", ""),
         r.get("outside_tasks_s", ""),
         round(r["cluster_start_s"] + r["warmup_flow_s"], 2) if "cluster_start_s" in r else "",
         r.get("parallel_headroom_before", ""), r.get("same_clips_csv", "")]
        for r in d["runs"]
    ]  # fmt: skip
    ds = d["dataset"]
    head = (
        f"{ds['clips']} clips of {ds['width']}x{ds['height']}, {ds['frames']} frames. Dask's start-up (cluster and "
        "a warm-up flow, once per worker count) is outside the wall times. Parallel headroom: how much faster two "
        "CPU-bound processes did twice the work of one just before the run (2.0 on two idle cores), the ceiling "
        "of any 2-worker speed-up at that moment.\n\n"
    )
    tail = f"\n\nDask speed-up 2 workers over 1: {d['dask_speedup_2_over_1']:.2f}x."
    cpu = [r for r in d["runs"] if "cpu_s" in r]
    if cpu:
        tail += (
            " CPU seconds by process during each run: "
            + "; ".join(
                f"{r['runner']}({r['workers']}) " + ", ".join(f"{k} {v:g}" for k, v in r["cpu_s"].items() if v)
                for r in cpu
            )
            + "."
        )
    two = next((r for r in cpu if r["runner"] == "dask" and r["workers"] == 2), None)
    if two is not None and two["cpu_s"].get("dask workers"):
        work = two["cpu_s"]["dask workers"] / two["clips"]
        orchestration = (two["cpu_s"]["flow process"] + two["cpu_s"]["prefect server"]) / two["clips"]
        tail += (
            f" Per clip: {work:.3f} CPU s in the workers, {orchestration:.3f} CPU s of orchestration (flow process "
            f"and Prefect server); on two idle cores that caps the 2-worker speed-up at 2 x {work:.3f} / "
            f"({work:.3f} + {orchestration:.3f}) = {2 * work / (work + orchestration):.2f}x."
        )
    cols = ["runner", "workers", "wall s", "clips/s", "task s (median)", "outside tasks s", "start-up s",
            "parallel headroom", "same clips.csv"]  # fmt: skip
    return head + table(cols, rows) + tail


def dvc_scale(d: dict) -> str:
    rows = [
        [r.get("variant", "project"), r["clips"], r["data_files"], r["noop_repro_s"], r.get("noop_repro_cpu_s", ""),
         r["status_s"], r.get("status_cpu_s", "")]
        for r in d.get("all_rows", d["rows"])
    ]  # fmt: skip
    head = (
        f"The project's dvc.yaml ({len(d['stages'])} stages, stub commands), every stage up to date; {d['dvc']}. "
        "Variant project: only the data-digest stage depends on `data`, the others on its small output; variant "
        "data-in-every-stage: the layout before it, every stage reading data/ lists `data`. "
        f"YAML C parser (ruamel.yaml.clib): {d.get('yaml_c_parser', 'not recorded')}.\n\n"
    )
    lines = [
        f"{v}: {d['rows'][-1]['clips']} clips against {d['rows'][0]['clips']}: {pv['ratio_large_over_small']:.2f}x "
        f"wall, {pv['cpu_ratio_large_over_small']:.2f}x CPU for {d['clips_ratio']:.0f}x the clips; "
        f"{pv['cpu_s_per_1000_files']:.2f} CPU s per 1,000 files in data/."
        for v, pv in d.get("variants", {}).items()
    ]
    cols = ["variant", "clips", "files in data/", "no-op repro s", "CPU s", "dvc status s", "CPU s"]
    return head + table(cols, rows) + ("\n\n" + "\n".join(f"- {line}" for line in lines) if lines else "")


def curation_versions(d: dict) -> str:
    rows = [
        [n, v["commit"][:8], v["runner"], v["median_wall_s"], v["by_reason"].get("accepted", 0), v["subject"][:70]]
        for n, v in d["versions"].items()
    ]
    runs = ", ".join(f"{r['version']} {r['wall_s']} s (load {r['load_average_1min']}, headroom {r['headroom']})"
                     for r in d["runs"])  # fmt: skip
    head = (
        f"`mannequin curate` of the default sample ({d['clips']} clips) by two checkouts of the project, each with its "
        "own params.yaml, on the same data, in one run (alternating, from empty output folders, start-up included).\n\n"
    )
    cols = ["version", "commit", "runner", "median wall s", "accepted", "subject"]
    tail = f"\n\nNew over old: {d['speedup_new_over_old']:.2f}x (target >= 2x). Runs: {runs}."
    return head + table(cols, rows) + tail


def data_scale(d: dict) -> str:
    rows = []
    for r in d["rows"]:
        unbounded, bounded = r["passes"]
        rows.append(
            [r["clips"], r["frames"], r["datamodule_s"], r["datamodule_cpu_s"], r["read_all_shard_bytes_s"],
             r["data_wait_share"],
             r["samples_per_s"], f"{unbounded['extra_fds']} / {bounded['extra_fds']}"]
        )  # fmt: skip
    head = (
        f"Synthetic shards in the real format, {d['frames_per_shard']} frames of 160x120 each; one loader worker. "
        "Open descriptors: after one shuffled pass over every frame in one process, without a bound on open "
        f"shards (before) and with `ShardFrames.max_open_shards` = {d['max_open_shards']} (now).\n\n"
    )
    rt = d["ratios_large_over_small"]
    tail = (
        f"\n\n{rt['clips']:.0f}x the clips: data module start-up {rt['datamodule_s']:.1f}x wall "
        f"({rt.get('datamodule_cpu_s', float('nan')):.1f}x CPU), reading every shard byte "
        f"{rt['read_all_shard_bytes_s']:.1f}x, data-wait share {rt['data_wait_share']:.2f}x."
    )
    cols = ["clips", "frames", "data module s", "CPU s", "read all shards s", "data-wait share", "samples/s",
            "open fds before / now"]  # fmt: skip
    return head + table(cols, rows) + tail


def training(d: dict) -> str:
    keys = ["objective", "num_workers", "batch_size", "image_size", "samples_per_s", "samples_per_s_vs_mvs"]
    rows = [[r.get(k, "") for k in keys] + [r["data_wait_share"]] for r in d["rows"]]
    header = ["objective", "loader workers", "batch", "input", "samples/s", "vs mvs (same run)", "data-wait share"]
    return table(header, rows)


def training_threads(d: dict) -> str:
    rows = [[r["threads"], r["num_workers"], r["samples_per_s"], f"{r['samples_per_s_vs_default']:.2f}x",
             f"{100 * r['data_wait_share']:.1f}%"] for r in d["rows"]]  # fmt: skip
    return f"1-minute load when it ran: {d['machine']['load_1min']:.2f}.\n\n" + table(
        ["torch threads", "loader workers", "samples/s", "vs 1 thread + 1 worker", "data wait"], rows
    )


def pipeline(d: dict) -> str:
    rows = [
        ["no-op dvc repro", d["noop_dvc_repro_s"]],
        ["fully cached pipeline flow", d["cached_flow_s"]],
        ["one cached stage via dvc repro --single-item", d["single_stage_skip_s"]],
        ["one cached stage via the in-process status check", d["single_stage_precheck_skip_s"]],
        ["Prefect overhead per task (ms)", d["prefect_per_task_overhead_ms"]],
        ["empty flow run", d["empty_flow_run_s"]],
    ]
    return table(["measurement", "seconds"], rows)


def install(d: dict) -> str:
    rows = [[way, d["median_s"][way], len(d["seconds"][way])] for way in ("uv", "pip")]
    return table(["make install", "median s", "runs"], rows) + f"\n\npip / uv: {d['pip_over_uv']:.2f}x (same run)"


def demo(d: dict) -> str:
    rows = [[r["stage"], r["wall_s"], r["peak_rss_mib"]] for r in d["rows"]]
    rows.append(["total", d["total_wall_s"], d["peak_rss_mib"]])
    return table(["stage", "wall s", "peak RSS MiB"], rows)


def sfm(d: dict) -> str:
    head = f"{d['clips']} clean clips of the default sample, `poses.txt` withheld, {d['mapper']} mapping.\n\n"
    names = {"registered": "frames registered (share)", "ate_ratio": "ATE / path length",
             "rotation_deg": "rotation error, worst frame (deg)", "s_per_frame": "seconds per frame",
             "abs_rel_sfm": "MVS abs_rel, SfM poses", "abs_rel_true": "MVS abs_rel, true poses",
             "abs_rel_ratio": "abs_rel SfM / true, per clip"}  # fmt: skip
    cols = ("mean", "min", "p10", "median", "p90", "max")
    rows = [[names[k], *(v.get(c) for c in cols)] for k, v in d["distributions"].items() if v.get("n")]
    return head + table(["metric", *cols], rows)


def sfm_curation(d: dict) -> str:
    head = (
        f"{d['clips']} curated clips, decided with `poses.txt` and again with every `poses.txt` withheld (SfM poses): "
        f"agreement {d['agreement']:.1%}, same reason code {d['same_reason_code']:.1%}.\n\n"
    )
    rows = [[r["clip_id"], r["defect"], r["with_poses"][:90], r["sfm_poses"][:90]] for r in d["differ"]]
    return head + table(["clip", "defect", "with poses.txt", "with SfM poses"], rows)


def real_depth(d: dict) -> str:
    """The real-depth tables, rendered by the same code as the report's section and README's block."""
    from mannequin.evaluation.real_depth_report import intro, real_depth_body

    return "\n".join([intro(d), "", *real_depth_body(d)]).rstrip()


def castel_poses(d: dict) -> str:
    head = (
        f"SfM ({d['sfm']['method']}: {d['sfm']['registered']} of {d['sfm']['frames']} frames registered, reprojection"
        f" error {d['sfm']['reprojection_error_px']:.2f} px) against reference poses from the sensor (PnP of frame 0's"
        " SIFT features lifted by its registered depth), each reference checked by the castle's CAD model moved by"
        f" it meeting that frame's own depth (worst median difference {100 * d['reference_vs_cad_max']:.2f}%).\n\n"
    )
    rows = [[r["frame"], r["pnp_inliers"], r["reference_vs_cad"], r["reference_rotation_deg"],
             r["sfm_rotation_error_deg"], r["sfm_translation_direction_error_deg"]] for r in d["rows"]]  # fmt: skip
    cols = ["frame", "PnP inliers", "reference vs CAD", "rotation from frame 0 (deg)", "SfM rotation error (deg)",
            "SfM translation direction error (deg)"]  # fmt: skip
    return head + table(cols, rows)


def people_masks(d: dict) -> str:
    rows = []
    if v := d.get("vtest"):
        rows.append(
            ["vtest.avi: people found (5 hand-boxed frames)", f"{v['found']}/{v['people']} ({v['recall']:.1%})"]
        )
        rows.append(["vtest.avi: taken for people in no box (before dilation)", f"{v['undilated']['outside']:.1%}"])
        rows.append(["vtest.avi: seconds per 768x576 frame", f"{v['seconds_per_frame']:.2f}"])
    for name, regions in d["astronaut"].items():
        rows.append([f"astronaut.png ({name}): share masked", ", ".join(f"{k} {c:.0%}" for k, c in regions.items())])
    if s := d.get("sample"):
        rows.append(
            [
                "default sample: IoU with the rendered figures, mean / median",
                f"{s['iou_mean']:.3f} / {s['iou_median']:.3f}",
            ]
        )
        rows.append(
            [
                "default sample: frames with figures / nothing found",
                f"{s['frames_with_figures']} / {s['frames_with_nothing_found']}",
            ]
        )
    return table(["figure", "value"], rows)


def flicker_cost(d: dict) -> str:
    rows = [
        ["evaluate stage (s)", d["evaluate_s"]],
        ["inside the flicker measure (s)", d["flicker_s"]],
        ["flicker share of the evaluate stage", f"{d['flicker_share_of_evaluate']:.1%}"],
        ["flicker calls / frame pairs", f"{d['flicker_calls']} / {d['frame_pairs']}"],
        ["ms per frame pair", d["ms_per_frame_pair"]],
        ["load average during the run", " ".join(str(x) for x in d["load_average"])],
    ]
    return table(["figure", "value"], rows)


def flicker_demo_share(cost: dict, demo: dict) -> float:
    """The flicker measure's share of the whole demo: its share of the evaluate stage (one run) times the evaluate
    stage's share of the demo (bench_demo's run): ratios only, so the two runs' machine speeds cancel."""
    evaluate = next(r["wall_s"] for r in demo["rows"] if r["stage"] == "evaluate")
    return cost["flicker_share_of_evaluate"] * evaluate / demo["total_wall_s"]


def learning_scale(d: dict) -> str:
    def rows(points: list[dict]) -> list[list[Any]]:
        out = []
        for p in points:
            for objective, m in sorted(p["models"].items()):
                pre, ft = m["pretrained"], m["finetuned"]
                gap = m["target_gap"]
                out.append([p["clips"], p["accepted"], p["steps"], p["width"], objective, pre["abs_rel"], pre["a1"],
                            pre["dbe_acc"], pre["dbe_comp"], "n/a" if gap is None else gap, ft["abs_rel"],
                            m.get("pretrained_ratio_to_demo", "n/a")])  # fmt: skip
        return out

    cols = ["pool clips", "curated", "steps", "width", "objective", "abs_rel (median)", "δ<1.25", "ε_acc", "ε_comp",
            "target gap", f"fine-tuned @{d['data_curve'][0]['budget'] if d['data_curve'] else '?'} abs_rel",
            "abs_rel / demo's"]  # fmt: skip
    slopes = d["slope_per_doubling"]
    slope_text = "; ".join(
        f"`{o}` pretrained {v['pretrained']:+.4f}, fine-tuned {v['finetuned']:+.4f}"
        for o, v in slopes.items()
        if v["pretrained"] is not None and v["finetuned"] is not None
    )
    head = (
        f"Pretrained `mvs` and `mvs-parallax` scored on the demo's test clips (median-aligned; the target gap against"
        f" the MVS depth of their held-out curated clips; and fine-tuned at the smallest budget, metric). Pool:"
        f" {d['pool_clips']} unlabelled clips ({', '.join(d['sources'])}); the demo's own is {d['demo_clips']}."
        f" Figure: `docs/learning_scale.png`.\n\n**More unlabelled clips** at {d['base_steps']} steps, width"
        f" {d['base_width']}:\n\n"
    )
    compute = [p for p in d["compute_curve"] if p not in d["data_curve"]] or d["compute_curve"]
    return (
        head
        + table(cols, rows(d["data_curve"]))
        + f"\n\nChange of abs_rel per doubling of the pool (least squares over log2 clips): {slope_text}."
        + f"\n\n**More compute** on the demo's {d['demo_clips']} clips:\n\n"
        + table(cols, rows(sorted(compute, key=lambda p: (p["width"], p["steps"]))))
    )


def finetune_recipe(d: dict) -> str:
    out = []
    for name, entry in sorted(d.items()):
        rows = []
        for recipe, table_rows in entry["recipes"].items():
            inits = sorted({k.rsplit("-", 1)[0] for k in table_rows})
            for init in inits:
                budgets = sorted(int(k.rsplit("-", 1)[1]) for k in table_rows if k.rsplit("-", 1)[0] == init)
                rows.append([recipe, init, *(table_rows[f"{init}-{b}"]["abs_rel"] for b in budgets),
                             f"{100 * entry['slope'][recipe][init]:+.1f}%"])  # fmt: skip
        budgets_text = [f"abs_rel @{b}" for b in budgets]
        header = ["recipe", "init", *budgets_text, f"{budgets[-1]} vs {budgets[0]} labels"]
        where = f"data `{entry['sample']['data']}`, pretrained `{entry['pretrained']}`, {entry['wall_s']:.0f} s"
        out.append(f"**{name}** ({where}):\n\n" + table(header, rows))
    return (
        "`default`: params.yaml's fine-tuning; `before`: the recipe before issue 22 (60 steps whatever the budget,"
        " pretrained weights at 0.02 x lr, the last weights exported, 8 held-out frames). Metric abs_rel on the"
        " sample's test clips.\n\n" + "\n\n".join(out)
    )


def label_rooms(d: dict) -> str:
    rows = []
    for init, r in sorted(d["inits"].items()):
        for i, b in enumerate(r["budgets"]):
            rows.append([init, b, r["fewer_rooms"][i], r["more_rooms"][i], r["ratio"][i]])
        rows.append([init, f"{r['budgets'][-1]} vs {r['budgets'][0]} labels", f"{100 * r['slope_fewer']:+.1f}%",
                     f"{100 * r['slope_more']:+.1f}%", ""])  # fmt: skip
    return (
        f"The same fine-tuning (params.yaml's, the demo's pretrained models) on the demo's sample and on the sample"
        f" rendered again with {d['extra_labeled']} more labeled clips (`sample-data --extra-labeled`; the test clips"
        f" byte-identical). Metric abs_rel on the test clips; {d['wall_s']:.0f} s.\n\n"
        + table(["init", "labels", "the sample's labeled clips", f"+{d['extra_labeled']} labeled clips", "ratio"], rows)
    )


SECTIONS: list[tuple[str, str, str, Callable[[dict], str]]] = [
    ("render", "Sample-data renderer", "bench/bench_render.py", render),
    ("mvs_middlebury", "MVS against OpenCV StereoSGBM on real data", "bench/bench_mvs_middlebury.py", mvs_middlebury),
    ("mvs_scaling", "MVS scaling and accuracy", "bench/bench_mvs_scaling.py", mvs_scaling),
    ("mvs_gpu", "MVS on CUDA against the CPU path", "bench/bench_mvs_gpu.py", mvs_gpu),
    ("curation", "Curation throughput", "bench/bench_curation.py", curation),
    (
        "curation_versions",
        "Curation before and after the speed work",
        "bench/bench_curation_versions.py",
        curation_versions,
    ),
    ("training", "Pretraining throughput and data wait", "bench/bench_training.py", training),
    (
        "training_threads",
        "Does the second core pay? Threads and loader workers",
        "bench/bench_training.py --threads",
        training_threads,
    ),
    ("pipeline", "Pipeline overhead", "bench/bench_pipeline.py", pipeline),
    ("dvc_scale", "No-op dvc repro as data/ grows", "bench/bench_dvc_scale.py", dvc_scale),
    ("data_scale", "Pretraining's data path as the curated set grows", "bench/bench_data_scale.py", data_scale),
    ("sfm", "Structure from motion against the true poses", "bench/bench_sfm.py --jobs 2", sfm),
    (
        "sfm_curation",
        "Curation with SfM poses against curation with poses.txt",
        "bench/bench_sfm_curation.py",
        sfm_curation,
    ),
    ("demo", "The demo, stage by stage", "bench/bench_demo.py", demo),
    ("install", "make install: uv against the pip fallback", "bench/bench_install.py", install),
    ("real_depth", "Real depth: every model on real scenes with true depth", "make real-depth", real_depth),
    ("castel_poses", "Castel: SfM poses against poses from the sensor", "bench/castel_poses.py", castel_poses),
    ("people_masks", "The person segmenter on real people", "bench/bench_people_masks.py", people_masks),
    ("flicker_cost", "What the flicker figures cost the evaluate stage", "bench/bench_flicker_cost.py", flicker_cost),
    (
        "finetune_recipe",
        "Fine-tuning recipes: the default against the one before",
        "bench/bench_finetune_recipe.py --pretrained models/pretrain",
        finetune_recipe,
    ),
    ("label_rooms", "A label budget over more rooms", "bench/bench_label_rooms.py", label_rooms),
    (
        "learning_scale",
        "Scaling: more unlabelled clips, more compute",
        "bench/bench_learning_scale.py --source data:curated --source EXTRA/data:EXTRA/curated",
        learning_scale,
    ),
]


def targets() -> str:
    """The stated targets, checked against the JSON results."""
    rows = []

    def load(name: str) -> dict | None:
        path = RESULTS / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    if (m := load("mvs_middlebury")) is not None:
        ours, sgbm = m["ours"], m["sgbm"]
        ok = ours["bad2_pct"] <= sgbm["bad2_pct"] and ours["density_pct"] >= sgbm["density_pct"] - 1.5
        at = m["ours_at_sgbm_density"]["bad2_pct"]
        rows.append(
            ["MVS matches or beats SGBM on bad-2px at equal density", f"{at:.2f}% vs {sgbm['bad2_pct']:.2f}%", ok]
        )
        ratio = m["cpu_time_ratio_ours_over_sgbm"]
        rows.append(["MVS CPU time <= 25x SGBM's (Middlebury 370x250)", f"{ratio:.1f}x", ratio <= 25])
        rows.append(["MVS bad-2px at SGBM density <= 4.48%", f"{at:.2f}%", at <= 4.48])
    if (sc := load("mvs_scaling")) is not None and "backend_comparison" in sc:
        speedup = sc["backend_comparison"]["speedup_numba_over_torch"]
        rows.append(["MVS default setting >= 2.5x the torch CPU path", f"{speedup:.2f}x", speedup >= 2.5])
        rel = sc["sample_mean_abs_rel"]
        change = rel["numba"] / rel["torch"] - 1
        rows.append(["MVS AbsRel on clean sample clips within 5% of torch's", f"{change:+.1%}", abs(change) <= 0.05])
        big = [r for r in sc["by_resolution"] if r["width"] == 640]
        if big:
            fps = big[0]["frames_per_s"]
            rows.append(["MVS 640x480 >= 1 frame/s", f"{fps:.2f}", fps >= 1])
    if (t := load("training")) is not None:
        for r in t["rows"]:
            share = r["data_wait_share"]
            rows.append(
                [f"data wait < 10% ({r['objective']}, {r['num_workers']} workers)", f"{share:.1%}", share < 0.1]
            )
    if (c := load("curation")) is not None:
        n, speedup = c["dataset"]["clips"], c["dask_speedup_2_over_1"]
        rows.append([f"Dask 2 workers >= 1.7x 1 worker ({n} clips)", f"{speedup:.2f}x", speedup >= 1.7])
    if (cv := load("curation_versions")) is not None:
        x = cv["speedup_new_over_old"]
        name = f"curation of the default sample >= 2x faster than before ({cv['clips']} clips)"
        rows.append([name, f"{x:.2f}x", x >= 2])
    if (p := load("pipeline")) is not None:
        rows.append(["no-op dvc repro < 2 s", f"{p['noop_dvc_repro_s']:.2f} s", p["noop_dvc_repro_s"] < 2])
    if (v := load("dvc_scale")) is not None:
        for r in [x for x in v.get("all_rows", v["rows"]) if x["clips"] == v["rows"][-1]["clips"]]:
            name = f"no-op dvc repro < 2 s ({r['clips']} clips, {r.get('variant', 'project')})"
            measured = f"{r['noop_repro_s']:.2f} s wall, {r.get('noop_repro_cpu_s', float('nan')):.2f} s CPU"
            rows.append([name, measured, r["noop_repro_s"] < 2])
    if (s := load("data_scale")) is not None:
        for r in s["rows"]:
            share = r["data_wait_share"]
            rows.append([f"data wait < 10% ({r['clips']} curated clips)", f"{share:.1%}", share < 0.1])
    if (f := load("sfm")) is not None:
        dist, pooled = f["distributions"], f["pooled"]
        reg = pooled["frames_registered"]
        rows.append(["SfM frames registered >= 90% (poses withheld)", f"{reg:.1%}", reg >= 0.9])
        ate = dist["ate_ratio"]["median"]
        rows.append(["SfM trajectory error <= 2% of the path (median clip)", f"{ate:.2%}", ate <= 0.02])
        for stat in ("median", "mean"):
            rot = dist["rotation_deg"][stat]
            rows.append([f"SfM rotation error <= 1 deg ({stat} clip)", f"{rot:.2f} deg", rot <= 1])
        ratio = dist["abs_rel_ratio"]["median"]
        rows.append(["MVS abs_rel SfM poses <= 1.5x true poses (median clip)", f"{ratio:.2f}x", ratio <= 1.5])
        means = pooled["abs_rel_ratio_of_means"]
        rows.append(["MVS abs_rel SfM poses <= 1.5x true poses (mean over clips)", f"{means:.2f}x", means <= 1.5])
    if (a := load("sfm_curation")) is not None:
        rows.append(["curation decisions with SfM poses agree >= 90%", f"{a['agreement']:.1%}", a["agreement"] >= 0.9])
    if (pm := load("people_masks")) is not None and pm.get("vtest"):
        r = pm["vtest"]["recall"]
        rows.append(["segmenter finds >= 80% of vtest.avi's hand-boxed walkers", f"{r:.1%}", r >= 0.8])
    if (d := load("demo")) is not None:
        rows.append(["whole demo pipeline < 15 min", f"{d['total_wall_s']:.0f} s", d["total_wall_s"] < 900])
        if (fc := load("flicker_cost")) is not None:
            share = flicker_demo_share(fc, d)
            rows.append(["the flicker figures add <= 5% to the demo", f"{share:.2%}", share <= 0.05])
    return table(["target", "measured", "holds"], rows)


def main() -> None:
    parts = [
        "# Benchmarks",
        "",
        "Written by `bench/summarize.py` from `bench/results/*.json` (`make bench` runs every benchmark, then this).",
        "Absolute times drift on shared machines; comparisons are ratios measured in the same run.",
        "",
    ]
    parts.append("## Targets\n\n" + targets() + "\n")
    for name, title, command, fmt in SECTIONS:
        path = RESULTS / f"{name}.json"
        run = command if command.startswith("make ") else f".venv/bin/python {command}"
        parts.append(f"## {title}\n\nReproduce: `{run}` → `bench/results/{name}.json`\n")
        if not path.exists():
            parts.append("Not measured yet (no result file).\n")
            continue
        data = json.loads(path.read_text())
        machine = data.get("machine")
        if machine:
            parts.append(f"Machine: `{json.dumps(machine)}`\n")
        parts.append(fmt(data) + "\n")
    OUT.write_text("\n".join(parts))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
