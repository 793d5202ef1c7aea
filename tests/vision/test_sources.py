"""Camera sources: what a till operator or a demo notices about each kind of camera."""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.catalogue import demo_catalogue
from vision.cutouts import CutoutLibrary
from vision.sources import (
    CaptureSource,
    Frame,
    ImageFolderSource,
    SyntheticSource,
    VideoFileSource,
    normalise_frame,
    open_source,
)

SMALL = "width=160&height=120"


@pytest.fixture(scope="module")
def lib() -> CutoutLibrary:
    """A small cut-out library, built once (the full demo catalogue takes most of a second)."""
    products = demo_catalogue()
    return CutoutLibrary.from_products(products[:10] + [p for p in products if p.sku == "TUNA-170"])


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.absdiff(a, b).mean())


# ---------------------------------------------------------------------------------- synthetic


def test_synthetic_frames_are_bgr_of_requested_size(lib: CutoutLibrary) -> None:
    with open_source(f"synthetic:?seed=1&{SMALL}&fps=5", library=lib) as src:
        assert isinstance(src, SyntheticSource)
        assert src.state.state == "connecting"
        frames = [src.read() for _ in range(3)]
        for i, f in enumerate(frames):
            assert isinstance(f, Frame)
            assert f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8
            assert f.index == i and f.source.startswith("synthetic:")
            assert abs(f.timestamp - time.time()) < 60
        st = src.state
        assert st.state == "live" and st.frames == 3 and st.last_frame_at is not None
    assert src.state.state == "ended" and src.read() is None


def test_open_source_size_arguments_apply_unless_the_query_says_otherwise(lib: CutoutLibrary) -> None:
    with open_source("synthetic:", width=96, height=64, library=lib) as src:
        assert src.read().image.shape == (64, 96, 3)
    with open_source("synthetic:?width=80&height=60", width=96, height=64, library=lib) as src:
        assert src.read().image.shape == (60, 80, 3)


def test_synthetic_is_deterministic_for_a_seed(lib: CutoutLibrary) -> None:
    uri = f"synthetic:?seed=7&{SMALL}&fps=2&period=1"
    with open_source(uri, library=lib) as a, open_source(uri, library=lib) as b, \
            open_source(uri.replace("seed=7", "seed=8"), library=lib) as c:
        fa = [a.read().image for _ in range(6)]
        fb = [b.read().image for _ in range(6)]
        fc = [c.read().image for _ in range(6)]
        assert a.truth() == b.truth()
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    assert not np.array_equal(fa[-1], fc[-1])


def test_synthetic_tray_is_still_between_changes_apart_from_sensor_noise(lib: CutoutLibrary) -> None:
    # 5 fps, a change every 2 s: frames 10..19 show the same arrangement (one item)
    with open_source(f"synthetic:?seed=3&{SMALL}&fps=5&period=2", library=lib) as src:
        frames = [src.read().image for _ in range(20)]
        assert sum(src.truth().values()) == 1
    still = frames[10:20]
    for prev, cur in itertools.pairwise(still):
        d = _mean_abs(prev, cur)
        assert 0.0 < d < 2.5  # real sensor noise, but nothing moved
    assert _mean_abs(frames[9], frames[10]) > _mean_abs(frames[10], frames[11])  # the item arrived


def test_synthetic_items_appear_and_disappear_over_virtual_time(lib: CutoutLibrary) -> None:
    with open_source(f"synthetic:?seed=5&{SMALL}&fps=1&period=1&max_items=4", library=lib) as src:
        counts, truths = [], []
        for _ in range(18):
            src.read()
            counts.append(len(src.current_items))
            truths.append(src.truth())
            assert sum(src.truth().values()) == len(src.current_items)
    assert counts[0] == 0  # the tray starts empty
    assert max(counts) >= 2  # items were put down ...
    peak = counts.index(max(counts))
    assert 0 in counts[peak:]  # ... and all taken away again
    assert all(abs(a - b) == 1 for a, b in itertools.pairwise(counts))  # one item per change
    assert len({tuple(sorted(t.items())) for t in truths}) >= 3


def test_synthetic_uses_only_the_requested_skus(lib: CutoutLibrary) -> None:
    with open_source(f"synthetic:?seed=2&{SMALL}&fps=1&period=1&skus=TUNA-170,SUGAR-2LB", library=lib) as src:
        for _ in range(5):
            src.read()
        assert set(src.truth()) <= {"TUNA-170", "SUGAR-2LB"} and src.truth()


def test_synthetic_renders_the_demo_catalogue_by_default() -> None:
    with open_source("synthetic:?width=96&height=72&fps=1&period=1&skus=TUNA-170") as src:  # no library given
        for _ in range(3):
            src.read()
        assert src.truth() == {"TUNA-170": 2}
    with pytest.raises(ValueError, match="NOT-A-SKU"):
        open_source("synthetic:?skus=NOT-A-SKU")


@pytest.mark.parametrize("uri", ["synthetic:?bogus=1", "synthetic:?fps=fast", "synthetic:?skus=NOT-A-SKU",
                                 "synthetic:?fps=0"])
def test_synthetic_rejects_bad_options_by_name(uri: str, lib: CutoutLibrary) -> None:
    with pytest.raises(ValueError, match="synthetic"):
        open_source(uri, library=lib)


def test_realtime_paces_reads_and_default_does_not(lib: CutoutLibrary) -> None:
    with open_source(f"synthetic:?{SMALL}&fps=20", realtime=True, library=lib) as src:
        t0 = time.monotonic()
        for _ in range(4):
            src.read()
        assert time.monotonic() - t0 >= 0.12  # 3 intervals of 50 ms
    with open_source(f"synthetic:?{SMALL}&fps=1", library=lib) as src:
        t0 = time.monotonic()
        for _ in range(4):
            src.read()
        assert time.monotonic() - t0 < 0.9  # virtual time: no waiting for 1 fps


# ------------------------------------------------------------------------------ image folder


def _write_folder(folder: Path) -> None:
    cv2.imwrite(str(folder / "a.png"), np.full((40, 50, 3), (10, 20, 30), np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.full((30, 20), 200, np.uint8))  # grey
    bgra = np.zeros((24, 32, 4), np.uint8)
    bgra[..., :3] = (255, 0, 0)
    bgra[..., 3] = 128
    cv2.imwrite(str(folder / "c.png"), bgra)  # with alpha
    (folder / "d_corrupt.png").write_bytes(b"this is not a PNG")
    cv2.imwrite(str(folder / "e.png"), np.full((16, 16), 65535, np.uint16))  # 16-bit grey
    (folder / "notes.txt").write_text("ignored")


def test_image_folder_yields_normalised_frames_and_skips_bad_files(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    _write_folder(tmp_path)
    with caplog.at_level(logging.WARNING, logger="vision.sources"):
        with open_source(str(tmp_path)) as src:
            assert isinstance(src, ImageFolderSource)
            frames = []
            while (f := src.read()) is not None:
                frames.append(f)
            st = src.state
    assert [f.image.shape for f in frames] == [(40, 50, 3), (30, 20, 3), (24, 32, 3), (16, 16, 3)]
    assert all(f.image.dtype == np.uint8 for f in frames)
    assert tuple(frames[0].image[0, 0]) == (10, 20, 30)
    assert tuple(frames[1].image[0, 0]) == (200, 200, 200)
    assert tuple(frames[2].image[0, 0]) == (255, 0, 0)
    assert tuple(frames[3].image[0, 0]) == (255, 255, 255)
    assert st.state == "ended" and st.frames == 4 and st.skipped == 1
    assert "d_corrupt.png" in (st.last_error or "")
    assert any("d_corrupt.png" in r.getMessage() for r in caplog.records)


def test_image_folder_loops_when_asked(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    with open_source(str(tmp_path), loop=True) as src:
        shapes = [src.read().image.shape for _ in range(9)]
        assert src.state.skipped == 1  # a bad file is reported once, not on every pass
    assert shapes[4] == shapes[0] and shapes[8] == shapes[0]


def test_image_folder_of_only_bad_files_fails_instead_of_spinning(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"junk")
    (tmp_path / "y.png").write_bytes(b"junk")
    src = ImageFolderSource(tmp_path, loop=True)
    assert src.read() is None and src.read() is None
    assert src.state.state == "failed" and src.state.skipped == 2


def test_a_single_image_file_is_a_source(tmp_path: Path) -> None:
    path = tmp_path / "still.jpg"
    cv2.imwrite(str(path), np.zeros((20, 30, 3), np.uint8))
    with open_source(str(path), loop=True) as src:
        assert isinstance(src, ImageFolderSource)
        assert src.read().image.shape == (20, 30, 3) and src.read() is not None


# -------------------------------------------------------------------------------- video file


def _write_video(path: Path, n: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    if not writer.isOpened():
        pytest.skip("MJPG video writer is not available in this OpenCV build")
    for i in range(n):
        writer.write(np.full((48, 64, 3), 20 + 40 * i, np.uint8))
    writer.release()


def test_video_file_loops_by_default(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path)
    with open_source(str(path)) as src:
        assert isinstance(src, VideoFileSource)
        frames = [src.read() for _ in range(12)]
    assert all(f is not None for f in frames)
    assert [f.index for f in frames] == list(range(12))
    levels = [int(f.image.mean()) for f in frames]
    assert abs(levels[5] - levels[0]) <= 3 and abs(levels[4] - levels[0]) > 100  # frame 5 is frame 0 again
    assert frames[0].image.shape == (48, 64, 3)


def test_video_file_without_loop_ends(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path)
    with open_source(str(path), loop=False) as src:
        got = 0
        while src.read() is not None:
            got += 1
            assert got < 50
        assert got == 5 and src.state.state == "ended"


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match=r"fake\.mp4"):
        open_source(str(path))


# ---------------------------------------------------------------------------- live cameras


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


class FakeCapture:
    """A camera that opens (or not) and then gives ``frames`` frames (None: forever) before failing."""

    def __init__(self, opened: bool = True, frames: int | None = None, shape: tuple[int, ...] = (48, 64, 3)):
        self.opened, self.left, self.shape = opened, frames, shape
        self.released = False
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.opened or self.left == 0:
            return False, None
        if self.left is not None:
            self.left -= 1
        return True, np.full(self.shape, 90, np.uint8)

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


def _scripted(*captures: FakeCapture) -> tuple[list, object]:
    opened: list = []
    queue = list(captures)

    def factory(target: int | str) -> FakeCapture:
        opened.append(target)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return opened, factory


def test_camera_that_fails_twice_then_works_reconnects_with_backoff() -> None:
    clock = FakeClock()
    targets, factory = _scripted(FakeCapture(opened=False), FakeCapture(opened=False), FakeCapture())
    cam = CaptureSource("rtsp://cam.local/stream", capture_factory=factory, backoff_s=1.0, backoff_max_s=8.0,
                        jitter=0.0, clock=clock, sleep=clock.sleep)
    assert cam.state.state == "connecting"
    assert cam.read() is None
    st = cam.state
    assert st.state == "reconnecting" and st.reconnects == 0 and "open" in (st.last_error or "")
    assert cam.next_retry_in == pytest.approx(1.0)

    t0 = clock.t
    assert cam.read() is None  # not due yet: returns after a short nap, no new attempt
    assert clock.t - t0 <= cam.poll_s + 1e-9 and len(targets) == 1

    clock.t += 1.0
    assert cam.read() is None  # second failure: the next wait doubles
    assert cam.state.reconnects == 1 and cam.next_retry_in == pytest.approx(2.0)

    clock.t += 2.0
    frame = cam.read()
    assert frame is not None and frame.image.shape == (48, 64, 3)
    st = cam.state
    assert st.state == "live" and st.reconnects == 2 and st.frames == 1
    assert targets == ["rtsp://cam.local/stream"] * 3


def test_camera_password_never_shows_in_state_or_frames() -> None:
    seen: list = []
    cap = FakeCapture()
    cam = open_source("rtsp://admin:s3cret@10.0.0.5:554/live", capture_factory=lambda t: seen.append(t) or cap)
    frame = cam.read()
    assert seen == ["rtsp://admin:s3cret@10.0.0.5:554/live"]  # the camera gets the real URI
    assert "s3cret" not in cam.state.uri and "s3cret" not in frame.source and "s3cret" not in repr(cam)
    assert cam.state.uri == "rtsp://admin:****@10.0.0.5:554/live"


def test_camera_that_drops_mid_stream_comes_back() -> None:
    clock = FakeClock()
    first, second = FakeCapture(frames=3), FakeCapture()
    _, factory = _scripted(first, second)
    cam = CaptureSource("/dev/video0", capture_factory=factory, backoff_s=0.5, jitter=0.0,
                        clock=clock, sleep=clock.sleep)
    assert [cam.read().index for _ in range(3)] == [0, 1, 2]
    assert cam.read() is None
    assert cam.state.state == "reconnecting" and first.released
    clock.t += 0.5
    frame = cam.read()
    assert frame is not None and frame.index == 3
    assert cam.state.state == "live" and cam.state.reconnects == 1 and cam.state.fps >= 0
    cam.close()
    assert second.released and cam.state.state == "ended" and cam.read() is None


def test_reading_a_dead_camera_never_hangs_the_loop() -> None:
    calls: list = []

    def factory(target: int | str) -> FakeCapture:
        calls.append(target)
        return FakeCapture(opened=False)

    cam = CaptureSource("0", capture_factory=factory, backoff_s=5.0, poll_s=0.02)
    t0 = time.monotonic()
    assert all(cam.read() is None for _ in range(5))
    assert time.monotonic() - t0 < 0.5
    assert calls == [0]  # index URI -> integer device, one attempt, then waiting for the back-off


def test_backoff_grows_is_capped_and_jittered() -> None:
    cam = CaptureSource("0", capture_factory=lambda t: FakeCapture(), backoff_s=1.0, backoff_max_s=10.0,
                        jitter=0.2, seed=1)
    delays = [cam.backoff_delay(n) for n in range(1, 9)]
    for n, d in enumerate(delays, start=1):
        nominal = min(10.0, 2.0 ** (n - 1))
        assert 0.8 * nominal <= d <= 1.2 * nominal
    assert max(delays) <= 12.0


def test_camera_gives_up_after_max_retries() -> None:
    clock = FakeClock()
    cam = CaptureSource("0", capture_factory=lambda t: FakeCapture(opened=False), backoff_s=1.0, jitter=0.0,
                        max_retries=1, clock=clock, sleep=clock.sleep)
    assert cam.read() is None
    clock.t += 1.0
    assert cam.read() is None
    assert cam.state.state == "failed" and "gave up" in (cam.state.last_error or "")


def test_camera_frames_are_normalised_and_size_is_requested() -> None:
    cap = FakeCapture(shape=(30, 40))  # a grey camera
    cam = open_source("0", width=320, height=240, fps=10, capture_factory=lambda t: cap)
    assert isinstance(cam, CaptureSource)
    frame = cam.read()
    assert frame.image.shape == (30, 40, 3)
    assert cap.props[cv2.CAP_PROP_FRAME_WIDTH] == 320 and cap.props[cv2.CAP_PROP_FRAME_HEIGHT] == 240


# ------------------------------------------------------------------------------- dispatching


def test_open_source_dispatches_by_uri(tmp_path: Path, lib: CutoutLibrary) -> None:
    never = lambda target: FakeCapture(opened=False)  # noqa: E731
    assert isinstance(open_source("synthetic:?width=64&height=48", library=lib), SyntheticSource)
    for uri in ("0", "/dev/video7", "rtsp://user:pw@10.0.0.5:554/stream1", "rtsps://nvr.local/cam2"):
        src = open_source(uri, capture_factory=never)
        assert isinstance(src, CaptureSource) and src.state.state == "connecting"  # opens on first read
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    assert isinstance(open_source(f"file://{tmp_path}"), ImageFolderSource)


def test_open_source_errors_name_the_uri(tmp_path: Path) -> None:
    for uri in ("ftp://x", "http://cam/video.mjpg"):
        with pytest.raises(ValueError, match=uri):
            open_source(uri)
    with pytest.raises(ValueError, match="empty"):
        open_source("  ")
    missing = tmp_path / "nope" / "clip.mp4"
    with pytest.raises(FileNotFoundError, match=r"clip\.mp4"):
        open_source(str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no images"):
        open_source(str(empty))


# --------------------------------------------------------------------------- normalise_frame


@pytest.mark.parametrize("img, pixel", [
    (np.full((4, 6), 77, np.uint8), (77, 77, 77)),
    (np.full((4, 6, 1), 77, np.uint8), (77, 77, 77)),
    (np.dstack([np.full((4, 6, 3), (1, 2, 3), np.uint8), np.zeros((4, 6), np.uint8)]), (1, 2, 3)),
    (np.full((4, 6, 3), 65535, np.uint16), (255, 255, 255)),
    (np.full((4, 6), 257 * 100, np.uint16), (100, 100, 100)),
    (np.full((4, 6, 3), 0.5, np.float32), (128, 128, 128)),
    (np.full((4, 6, 3), 200.0, np.float64), (200, 200, 200)),
    (np.full((4, 6, 3), 300, np.int32), (255, 255, 255)),
])
def test_normalise_frame_gives_bgr_uint8(img: np.ndarray, pixel: tuple[int, int, int]) -> None:
    out = normalise_frame(img)
    assert out.shape == (4, 6, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    assert tuple(int(v) for v in out[2, 3]) == pixel


def test_normalise_frame_keeps_a_good_frame_as_is() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    assert normalise_frame(img) is img


@pytest.mark.parametrize("bad, message", [
    (None, "None"), (np.zeros((0, 5, 3), np.uint8), "empty"), (np.zeros(10, np.uint8), "shape"),
    (np.zeros((4, 4, 5), np.uint8), "shape"), (np.zeros((2, 2, 2, 3), np.uint8), "shape"), ([[1, 2]], "numpy"),
])
def test_normalise_frame_rejects_what_is_not_an_image(bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_frame(bad)  # type: ignore[arg-type]
