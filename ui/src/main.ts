import { mount } from 'svelte';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import App from './App.svelte';
import DetailApp from './DetailApp.svelte';

const target = document.getElementById('app')!;
const sessionId = new URLSearchParams(window.location.search).get('session');

const app = sessionId
  ? mount(DetailApp, { target, props: { sessionId } })
  : mount(App, { target });

export default app;
