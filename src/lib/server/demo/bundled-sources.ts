// The demo files, bundled into the server at build time (Vite `?raw` imports), so `node build`
// seeds the demo without reading the checkout at run time.
import studyYaml from '../../../../studies/triage-demo/study.yaml?raw';
import beanCard from '../../../../studies/cards/bean-triage-scenarios.yaml?raw';
import examCard from '../../../../studies/cards/medical-licensing-exam.yaml?raw';
import type { DemoSources } from './demo-study.ts';

export const bundledDemoSources: DemoSources = {
	studyYaml,
	cards: [
		{ slug: 'bean-triage-scenarios', yaml: beanCard },
		{ slug: 'medical-licensing-exam', yaml: examCard }
	]
};
