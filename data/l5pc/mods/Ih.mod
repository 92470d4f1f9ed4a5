:Comment : Modified With vshift
:Reference : :		Kole,Hallermann,and Stuart, J. Neurosci. 2006

NEURON	{
	SUFFIX Ih
	NONSPECIFIC_CURRENT ihcn
	RANGE gIhbar, gIh, ihcn, vshift
}

UNITS	{
	(S)  = (siemens)
	(mV) = (millivolt)
	(mA) = (milliamp)
}

PARAMETER	{
	gIhbar = 0.00001 (S/cm2) 
	ehcn   =  -45.0 (mV)
	vhalf  = -154.9
	vshift = 0
}

ASSIGNED	{
	v      (mV)
	ihcn   (mA/cm2)
	gIh    (S/cm2)
	mInf
	mTau
	mAlpha
	mBeta
}

STATE	{ 
	m
}

BREAKPOINT	{
	SOLVE states METHOD cnexp
	gIh = gIhbar*m
	ihcn = gIh*(v-ehcn)
}

DERIVATIVE states	{
	rates()
	m' = (mInf-m)/mTau
}

INITIAL{
	rates()
	m = mInf
}

PROCEDURE rates(){
	UNITSOFF
		if(v == vhalf){
            v = v + 0.0001
        }
		mAlpha =  0.001*6.43*(v-(vhalf+vshift))/(exp((v-(vhalf+vshift))/11.9)-1)
		mBeta  =  0.001*193*exp((v-vshift)/33.1)
		mInf = mAlpha/(mAlpha + mBeta)
		mTau = 1/(mAlpha + mBeta)
		       
	UNITSON
}
