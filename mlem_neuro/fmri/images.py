"""Loading and checking NIfTI images: patterns, masks and atlases in one space."""

import nibabel as nib
import numpy as np
from nilearn import image

__all__ = ["load_patterns", "load_mask", "load_atlas", "load_background", "data_mask"]


def _describe(img):
    return f"shape {img.shape[:3]} and affine\n{np.round(img.affine, 3)}"


def load_patterns(patterns):
    """One 4D image of patterns, one volume per stimulus.

    Parameters
    ----------
    patterns : path, Nifti1Image or list of 3D images/paths
        A 4D image, or a list of 3D images in one space.

    Returns
    -------
    Nifti1Image
        4D.
    """
    if isinstance(patterns, (list, tuple)):
        if not patterns:
            raise ValueError("patterns is an empty list of images.")
        images = [image.load_img(item) for item in patterns]
        for index, img in enumerate(images):
            if len(img.shape) != 3 and not (len(img.shape) == 4 and img.shape[3] == 1):
                raise ValueError(
                    f"patterns[{index}] has shape {img.shape}; a list of patterns must hold 3D "
                    "images (one per stimulus). Pass a 4D image on its own instead."
                )
            check_same_space(images[0], img, f"patterns[{index}]", "patterns[0]")
        return image.concat_imgs(images)
    img = image.load_img(patterns)
    if len(img.shape) != 4:
        raise ValueError(
            f"patterns must be a 4D image (one volume per stimulus) or a list of 3D images, "
            f"got a {len(img.shape)}D image of shape {img.shape}."
        )
    return img


def check_same_space(reference, img, name, reference_name="patterns"):
    """Raise unless ``img`` has the grid (shape and affine) of ``reference``."""
    if reference.shape[:3] != img.shape[:3] or not np.allclose(
        reference.affine, img.affine, atol=1e-3
    ):
        raise ValueError(
            f"{name} is not in the space of {reference_name}: {name} has "
            f"{_describe(img)},\n{reference_name} has {_describe(reference)}.\nResample it "
            "first, e.g. nilearn.image.resample_to_img(img, patterns, interpolation='nearest')."
        )


def load_mask(mask, patterns_img):
    """A boolean mask in the space of the patterns.

    Parameters
    ----------
    mask : path, Nifti1Image or None
        None computes :func:`data_mask` from the patterns.
    patterns_img : Nifti1Image
        4D patterns.

    Returns
    -------
    Nifti1Image
        3D, uint8 with values 0/1.
    """
    if mask is None:
        return data_mask(patterns_img)
    img = image.load_img(mask)
    if len(img.shape) == 4 and img.shape[3] == 1:
        img = image.index_img(img, 0)
    if len(img.shape) != 3:
        raise ValueError(f"mask must be a 3D image, got shape {img.shape}.")
    check_same_space(patterns_img, img, "mask")
    data = np.asarray(img.dataobj)
    if not np.any(data):
        raise ValueError("mask is empty: it has no non-zero voxel.")
    return nib.Nifti1Image((data != 0).astype(np.uint8), img.affine)


def data_mask(patterns_img):
    """Voxels whose pattern is finite for every stimulus and not zero for all.

    Parameters
    ----------
    patterns_img : Nifti1Image
        4D.

    Returns
    -------
    Nifti1Image
        3D, uint8.
    """
    data = np.asarray(patterns_img.dataobj)
    keep = np.all(np.isfinite(data), axis=3) & np.any(data != 0, axis=3)
    if not keep.any():
        raise ValueError("No voxel has finite, non-zero patterns: cannot compute a mask.")
    return nib.Nifti1Image(keep.astype(np.uint8), patterns_img.affine)


def load_atlas(atlas, patterns_img):
    """An integer label image in the space of the patterns.

    Returns
    -------
    Nifti1Image
        3D labels (0 is background).
    """
    img = image.load_img(atlas)
    if len(img.shape) != 3:
        raise ValueError(f"atlas must be a 3D label image, got shape {img.shape}.")
    check_same_space(patterns_img, img, "atlas")
    return img


def load_background(img, patterns_img):
    """A 3D image in the space of the patterns, to draw maps on.

    Parameters
    ----------
    img : path or Nifti1Image
        An anatomical image resampled to the patterns, or a functional run
        (4D images are averaged over time).
    patterns_img : Nifti1Image

    Returns
    -------
    Nifti1Image
        3D.
    """
    img = image.load_img(img)
    if len(img.shape) == 4:
        img = image.mean_img(img, copy_header=True)
    check_same_space(patterns_img, img, "bg_img")
    return img
