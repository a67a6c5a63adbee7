# R4 table: mean +- sd over seeds of the final average accuracy, forgetting, parameters per continual method.
import json,glob,sys,statistics as st,collections
rows=collections.defaultdict(list)
for f in sorted(glob.glob(sys.argv[1] + '/r4-*.json')):
    d=json.load(open(f)); m=d['method']; fin=d['final']
    rows[m].append((fin['average_accuracy'],fin['forgetting'],fin['params'],fin['seconds'], d['config'].get('seed')))
print("| method | seeds | average accuracy | forgetting | parameters | seconds per run |")
print("|---|---|---|---|---|---|")
for m in ['firefly-cl','fixed-expansion','ewc','finetune']:
    r=rows.get(m,[])
    if not r: continue
    def ms(i,fmt): 
        v=[x[i] for x in r]; return (fmt%st.mean(v))+(" ± "+fmt%st.stdev(v) if len(v)>1 else "")
    print(f"| {m} | {len(r)} | {ms(0,'%.4f')} | {ms(1,'%.4f')} | {ms(2,'%.0f')} | {ms(3,'%.1f')} |")
