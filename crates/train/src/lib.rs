//! Learns diffusion kernels by backprop: the essay's argument for convolution over Euler
//! integration (see DESIGN.md, "train"). The simulator and training loop land with their own
//! issue; `train` depends on `neuron-nn`, never the reverse.
