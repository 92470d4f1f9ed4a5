COMMENT
Exp2Syn with a Jahr-Stevens magnesium block: i = g * B(v) * (v - e),
B(v) = 1 / (1 + exp(-gamma v) * mg / k). The same normalisation as NEURON's Exp2Syn (one event
of weight w peaks at w). Used by scripts/neuron_compare.py to check crates/biophys.
ENDCOMMENT

NEURON {
	POINT_PROCESS Exp2NMDA
	RANGE tau1, tau2, e, i, mg, k, gamma
	NONSPECIFIC_CURRENT i
	RANGE g
}

UNITS {
	(nA) = (nanoamp)
	(mV) = (millivolt)
	(uS) = (microsiemens)
	(mM) = (milli/liter)
}

PARAMETER {
	tau1 = 2 (ms) <1e-9,1e9>
	tau2 = 70 (ms) <1e-9,1e9>
	e = 0 (mV)
	mg = 1 (mM)
	k = 3.57 (mM)
	gamma = 0.062 (/mV)
}

ASSIGNED {
	v (mV)
	i (nA)
	g (uS)
	factor
}

STATE {
	A (uS)
	B (uS)
}

INITIAL {
	LOCAL tp
	if (tau1/tau2 > 0.9999) {
		tau1 = 0.9999*tau2
	}
	if (tau1/tau2 < 1e-9) {
		tau1 = tau2*1e-9
	}
	A = 0
	B = 0
	tp = (tau1*tau2)/(tau2 - tau1) * log(tau2/tau1)
	factor = -exp(-tp/tau1) + exp(-tp/tau2)
	factor = 1/factor
}

BREAKPOINT {
	SOLVE state METHOD cnexp
	g = B - A
	i = g*mgblock(v)*(v - e)
}

DERIVATIVE state {
	A' = -A/tau1
	B' = -B/tau2
}

FUNCTION mgblock(v (mV)) {
	mgblock = 1 / (1 + exp(gamma * -v) * (mg / k))
}

NET_RECEIVE(weight (uS)) {
	A = A + weight*factor
	B = B + weight*factor
}
