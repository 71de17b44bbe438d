"""Finding a dataset's folder: `find_data_dir` tries an explicit root, then $GANPLAY_DATA, then ./data/<name>/,
then OS package folders (unless $GANPLAY_SYSTEM_DATA=off), and accepts a folder holding at least one complete split (.gz or raw files).
`download_dir` says where a new download should go so that `find_data_dir` finds it again.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganplay.data.registry import DATASETS, DataError, DatasetSpec, get_spec

DATA_ENV_VAR = "GANPLAY_DATA"
SYSTEM_DATA_ENV_VAR = "GANPLAY_SYSTEM_DATA"     # "off": never look in OS package folders (a machine without them)


def system_dirs(spec: DatasetSpec) -> tuple[Path, ...]:
    """Where an OS package puts `spec`'s files, unless $GANPLAY_SYSTEM_DATA is off (0, off, no, false)."""
    if os.environ.get(SYSTEM_DATA_ENV_VAR, "").strip().lower() in ("0", "off", "no", "false"):
        return ()
    return spec.system_dirs


def default_data_dir(name: str) -> Path:
    """./data/<name>/ under the current working directory: where downloads go and the third place searched."""
    return Path.cwd() / "data" / name


def download_dir(name: str) -> Path:
    """Where to save a download of `name`: inside $GANPLAY_DATA when it names a writable folder, else ./data/<name>/.

    $GANPLAY_DATA is searched first and says where this user keeps data, so a download there is found again even
    if the app later starts from another directory: $GANPLAY_DATA itself when it is already named <name>
    (it is that dataset's folder), otherwise its <name>/ subfolder.
    """
    get_spec(name)
    env_value = os.environ.get(DATA_ENV_VAR)
    if env_value:
        base = Path(env_value).expanduser().absolute()
        if base.is_dir() and os.access(base, os.W_OK | os.X_OK):
            return base if base.name == name else base / name
    return default_data_dir(name)


def _locate_file(folder: Path, canonical: str) -> Path | None:
    """The file for `canonical` (e.g. t10k-images-idx3-ubyte.gz) in folder: .gz or raw, '-idx' or '.idx'."""
    stem = canonical.removesuffix(".gz")
    for candidate in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _complete_splits(spec: DatasetSpec, folder: Path) -> list[str]:
    return [split for split, pair in spec.splits.items() if all(_locate_file(folder, f) for f in pair)]


def _candidate_folders(spec: DatasetSpec, base: Path) -> list[Path]:
    """base/<name>/ and base itself, unless base is visibly another dataset's folder (e.g. .../mnist
    when looking for fashion-mnist: both use the same file names, so only the folder name tells them apart)."""
    folders = [base / spec.name]
    if base.name == spec.name or base.name not in DATASETS:
        folders.append(base)
    return folders


def find_data_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The folder holding at least one complete split of dataset `name`; see the module docstring for the order.

    An explicit `root` is trusted: if it lacks the data, that is an error (no silent fallback). $GANPLAY_DATA
    (relative paths resolve against the current directory) must exist, but may hold other datasets only.
    """
    spec = get_spec(name)
    fix = (f"run `{spec.download_command}` (saves into {download_dir(name)}), copy the files there, "
           f"or set {DATA_ENV_VAR}=/folder/holding/the/files")
    if spec.system_package:
        fix += f", or `apt-get install {spec.system_package}`"
    needed = " + ".join(spec.splits["t10k"])
    if root is not None:
        for folder in _candidate_folders(spec, Path(root).expanduser().absolute()):
            if _complete_splits(spec, folder):
                return folder.resolve()
        raise DataError(f"No {spec.title} files in {root} (or its {name}/ subfolder); it needs at least one "
                        f"split's images and labels, e.g. {needed}. Pass the right folder, or {fix}.")

    searched: list[str] = []
    env_value = os.environ.get(DATA_ENV_VAR)
    if env_value:
        env_base = Path(env_value).expanduser().absolute()
        if not env_base.is_dir():
            raise DataError(f"{DATA_ENV_VAR}={env_value} but {env_base} is not a folder (relative paths count "
                            f"from the current directory {Path.cwd()}). Set {DATA_ENV_VAR} to the folder "
                            f"holding the {spec.title} files, or unset it.")
        for folder in _candidate_folders(spec, env_base):
            if _complete_splits(spec, folder):
                return folder.resolve()
            searched.append(f"{folder}  (from ${DATA_ENV_VAR})")
    for folder in (default_data_dir(name), *system_dirs(spec)):
        if _complete_splits(spec, folder):
            return folder.resolve()
        searched.append(str(folder))
    places = "\n".join(f"  - {place}" for place in searched)
    raise DataError(f"No {spec.title} data found. Looked in:\n{places}\nA folder counts when it holds one "
                    f"split's images and labels, e.g. {needed} (.gz or raw).\nTo fix: {fix}.")
