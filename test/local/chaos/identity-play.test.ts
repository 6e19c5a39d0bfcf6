import { noteApiAnswer } from '../../../local/chaos/identity-play';

describe('chaos identity mix: the link API answers an event got', () => {
  it('keeps a 202 when the event is sent again and the later call finds the work done', () => {
    const answers = new Map<string, { status: number }>();
    noteApiAnswer(answers, 'E1', { status: 202 });
    noteApiAnswer(answers, 'E1', { status: 404 });
    expect(answers.get('E1')).toEqual({ status: 202 });
  });

  it('takes the latest answer while none was a 202', () => {
    const answers = new Map<string, { status: number }>();
    noteApiAnswer(answers, 'E1', { status: 503 });
    noteApiAnswer(answers, 'E1', { status: 404 });
    noteApiAnswer(answers, 'E2', { status: 404 });
    noteApiAnswer(answers, 'E2', { status: 202 });
    expect([answers.get('E1'), answers.get('E2')]).toEqual([{ status: 404 }, { status: 202 }]);
  });
});
