"""The operators an ``export`` archive may call: ATen and prims operator packets, by name.

A node's target is allowed when it is ``torch.ops.aten.<packet>.<overload>`` or
``torch.ops.prims.<packet>.<overload>`` with ``<packet>`` listed here (any overload), or
``_operator.getitem`` (which picks one result of a multi-output operator). Everything else is refused:
higher-order operators (``torch.ops.higher_order.*``: control flow and wrappers that carry subgraphs or
call Python), custom operators of any other namespace, Python callables. The list holds pure tensor
computation only: no operator that reads or writes files (``from_file``, ``save``), touches raw
storage (``set_``, ``as_strided``...), syncs or prints. Dropout is listed: a model exported in eval
mode calls it as the identity; in training mode it draws from the child's fixed seed. A model that
needs another operator is refused with its name; adding one here is a reviewed change.
"""

from __future__ import annotations

import re

_ELEMENTWISE = """
abs absolute acos acosh add addcdiv addcmul angle asin asinh atan atan2 atanh bitwise_and
bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor ceil clamp clamp_max
clamp_min clip copysign cos cosh deg2rad digamma div div_ elu eq erf erfc erfinv exp exp2 expm1 fill
fill_ floor floor_divide fmax fmin fmod frac ge gelu glu gt hardsigmoid hardswish hardtanh heaviside
hypot i0 igamma igammac isfinite isinf isnan isneginf isposinf le leaky_relu lerp lgamma log log10
log1p log2 log_sigmoid_forward logaddexp logaddexp2 logical_and logical_not logical_or logical_xor
logit lt masked_fill maximum minimum mish mul mvlgamma nan_to_num ne neg negative nextafter
polygamma pow prelu rad2deg reciprocal relu relu6 remainder round rrelu rsqrt rsub selu sgn sigmoid
sign signbit silu sin sinc sinh softplus softshrink sqrt square sub tan tanh threshold trunc where
xlogy celu hardshrink true_divide
"""
_REDUCTIONS = """
all amax amin aminmax any argmax argmin count_nonzero cummax cummin cumprod cumsum logcumsumexp
logsumexp max mean median min nanmean nanmedian nansum norm linalg_vector_norm prod std std_mean sum
var var_mean
"""
_SHAPES = """
alias broadcast_tensors broadcast_to cat chunk clone concat concatenate contiguous detach diag
diag_embed diagonal expand expand_as flatten flip gather index index_put index_select masked_scatter
masked_select movedim narrow numpy_T permute repeat repeat_interleave reshape roll rot90 scatter
scatter_add scatter_reduce select select_scatter slice slice_scatter split split_with_sizes squeeze
stack swapaxes t take tensor_split tile transpose tril triu unbind unflatten unsqueeze view view_as
_unsafe_view unfold constant_pad_nd pad reflection_pad1d reflection_pad2d replication_pad1d
replication_pad2d zeros zeros_like ones ones_like full full_like empty empty_like empty_strided
new_zeros new_ones new_full new_empty arange linspace eye lift_fresh_copy _to_copy to type_as sort
topk argsort kthvalue one_hot masked_fill_ copy copy_ lift_fresh bucketize searchsorted meshgrid
"""
_NN = """
linear matmul mm bmm addmm addmv addbmm baddbmm mv dot outer einsum tensordot conv1d conv2d conv3d
convolution conv_transpose1d conv_transpose2d _convolution max_pool1d max_pool2d
max_pool2d_with_indices max_pool3d avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d
adaptive_avg_pool2d adaptive_avg_pool3d _adaptive_avg_pool2d adaptive_max_pool1d adaptive_max_pool2d
upsample_nearest2d upsample_bilinear2d embedding layer_norm native_layer_norm group_norm
native_group_norm batch_norm _native_batch_norm_legit_no_training
_native_batch_norm_legit_functional _native_batch_norm_legit native_batch_norm instance_norm
rms_norm softmax _softmax log_softmax _log_softmax cross_entropy_loss nll_loss nll_loss_forward
nll_loss2d_forward mse_loss l1_loss smooth_l1_loss huber_loss binary_cross_entropy
binary_cross_entropy_with_logits kl_div cosine_similarity pairwise_distance cdist pixel_shuffle
pixel_unshuffle im2col col2im dropout native_dropout
"""
_BACKWARD = """
threshold_backward gelu_backward silu_backward sigmoid_backward tanh_backward hardtanh_backward
leaky_relu_backward elu_backward softplus_backward mse_loss_backward l1_loss_backward
smooth_l1_loss_backward nll_loss_backward nll_loss2d_backward _softmax_backward_data
_log_softmax_backward_data native_layer_norm_backward native_group_norm_backward
native_batch_norm_backward embedding_dense_backward max_pool2d_with_indices_backward
avg_pool2d_backward _adaptive_avg_pool2d_backward convolution_backward binary_cross_entropy_backward
select_backward slice_backward
"""
_PRIMS = {
    "prims." + name
    for name in ["convert_element_type", "broadcast_in_dim", "squeeze", "view_of", "sum", "var"]
}

ALLOWED_PACKETS: frozenset[str] = frozenset(
    {
        "aten." + name
        for block in (_ELEMENTWISE, _REDUCTIONS, _SHAPES, _NN, _BACKWARD)
        for name in block.split()
    }
    | _PRIMS
)
"""``aten.<packet>`` / ``prims.<packet>`` names whose every overload may appear in an archive's graph."""

GETITEM = "_operator.getitem"
_TARGET = re.compile(r"torch\.ops\.((?:aten|prims)\.[A-Za-z0-9_]+)\.([A-Za-z0-9_]+)")


def operator_refusal(target: object) -> str | None:
    """Why ``target`` (a node's serialized target) is not allowed, or None when it is."""
    if not isinstance(target, str):
        return f"a node target that is not a string ({type(target).__name__})"
    if target == GETITEM:
        return None
    match = _TARGET.fullmatch(target)
    if match is None:
        if target.startswith("torch.ops.higher_order."):
            return f"operator {target[:120]} is a higher-order operator (it runs a subgraph or Python)"
        if target.startswith("torch.ops."):
            return f"operator {target[:120]} is a custom operator (not ATen or prims)"
        return f"node target {target[:120]!r} is not an ATen or prims operator"
    packet = match[1]
    if packet not in ALLOWED_PACKETS:
        return f"operator {target[:120]} is not in the allow-list of ATen/prims operators"
    return None
