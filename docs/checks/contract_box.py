# The contract solvers over the box of legal parameters (docs/contracts.md): 400 random
# settings, every provider, probabilities drawn log-uniformly towards both ends of
# [0.001, 0.999]; prints how many exit 0, 1 (closed form and solver disagree) or 2.
# Run: MEDISIM_BIN=target/release/medisim python3 docs/checks/contract_box.py
import random, subprocess, json, collections, math
import os
B=os.environ.get('MEDISIM_BIN','target/release/medisim')
random.seed(7); res=collections.Counter(); bad=[]
def lu(lo,hi): return math.exp(random.uniform(math.log(lo),math.log(hi)))
for i in range(400):
    prov=random.choice(['free','nonnegative','misclassified','risk-averse'])
    # probabilities: mix of extremes
    def pr():
        r=random.random()
        if r<0.3: return lu(1e-3,0.5)
        if r<0.6: return 1-lu(1e-3,0.5)
        return random.uniform(1e-3,0.999)
    p00,p01,p10,p11=sorted([pr() for _ in range(4)])
    # assumption 1: p01>=p00, p11>=p10, p10>=p00, p11>=p01 ; choose order p00<=p10<=p01<=p11 or p00<=p01<=p10<=p11
    if random.random()<0.5: p01,p10=p10,p01
    g=pr()
    a=[B,'contract','--provider',prov,'--pi00',repr(p00),'--pi01',repr(p01),'--pi10',repr(p10),'--pi11',repr(p11),'--gamma',repr(g)]
    if prov=='risk-averse':
        u=random.choice(['sqrt','log1p','cara:%r'%lu(1e-3,0.999)]); a+=['--utility',u]
    if prov=='misclassified': a+=['--w0',repr(random.uniform(0,0.5)),'--w1',repr(random.uniform(0,0.5))]
    if prov=='free': a+=['--p11=%r'%random.uniform(-1e6,1e6)]
    out=subprocess.run(a,capture_output=True,text=True)
    key=(prov,out.returncode, 'DISAGREE' in out.stdout, out.stderr.split(':')[1][:40] if out.returncode==2 else '')
    res[key]+=1
    if out.returncode==1 or 'solver' in out.stderr: bad.append((a[2:],out.stderr[:200], [l for l in out.stdout.split('\n') if 'DISAGREE' in l]))
for k,v in sorted(res.items()): print(k,v)
for b in bad[:12]: print(b)
