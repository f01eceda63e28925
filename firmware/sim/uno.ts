/**
 * An Arduino Uno in avr8js: ATmega328P at 16 MHz with 2 KB SRAM, its timers, USART0, ADC and I/O
 * ports. The ADC reads whatever `volts(cycle)` says the analog pin carries at that moment, so a
 * recording plays into the firmware with exact timing.
 */
import {
  AVRADC,
  AVRIOPort,
  AVRTimer,
  AVRUSART,
  CPU,
  adcConfig,
  portBConfig,
  portCConfig,
  portDConfig,
  timer0Config,
  timer1Config,
  timer2Config,
  usart0Config,
  type ADCMuxInput,
} from 'avr8js';
import { AvrRunner } from './avr-runner.js';

export const UNO_CLOCK_HZ = 16_000_000;
const SRAM_BYTES = 0x800;
/** The AD8232's LO+ and LO- outputs go to digital pins 10 and 11: PB2 and PB3. */
const LEAD_OFF_PINS = [2, 3] as const;

export interface UnoOptions {
  /** Each byte the board sends on its serial TX pin. */
  onByte(byte: number): void;
  /** Volts on analog input 0 at this CPU cycle. */
  volts(cycle: number): number;
  /** Jump over idle loops (default true; the result is the same as stepping, only faster). */
  readonly jumpIdle?: boolean;
}

export class Uno {
  readonly cpu: CPU;
  readonly usart: AVRUSART;
  readonly adc: AVRADC;
  readonly portB: AVRIOPort;
  private readonly runner: AvrRunner;

  /** program: the flash as words (programWords(parseIntelHex(text)) for a HEX file). */
  constructor(program: Uint16Array, options: UnoOptions) {
    this.cpu = new CPU(program, SRAM_BYTES);
    new AVRTimer(this.cpu, timer0Config);
    new AVRTimer(this.cpu, timer1Config);
    new AVRTimer(this.cpu, timer2Config);
    this.portB = new AVRIOPort(this.cpu, portBConfig);
    new AVRIOPort(this.cpu, portCConfig);
    new AVRIOPort(this.cpu, portDConfig);
    this.usart = new AVRUSART(this.cpu, usart0Config, UNO_CLOCK_HZ);
    this.usart.onByteTransmit = options.onByte;
    this.adc = new AVRADC(this.cpu, adcConfig);
    const adc = this.adc;
    // Sample the pin when the conversion starts, as the ADC's sample-and-hold does.
    adc.onADCRead = (input: ADCMuxInput) => {
      const v = 'channel' in input && input.channel === 0 ? options.volts(this.cpu.cycles) : 0;
      const code = Math.min(Math.max(Math.floor((v / adc.referenceVoltage) * 1024), 0), 1023);
      this.cpu.addClockEvent(() => adc.completeADCRead(code), adc.sampleCycles);
    };
    this.runner = new AvrRunner(this.cpu, options.jumpIdle ?? true);
  }

  /** Drives the AD8232's lead-off outputs (both high while an electrode is off). */
  setLeadOff(off: boolean): void {
    for (const pin of LEAD_OFF_PINS) this.portB.setPin(pin, off);
  }

  /**
   * The RESET pin pulled low (opening the port does it on an Uno): the CPU starts the program
   * again, the clock counting on. avr8js's cpu.reset() drops every pending clock event; the
   * firmware's setup sets the timers and the USART going again, but an ADC conversion under way
   * would never complete, leaving the ADC busy and the board without another sample.
   */
  reset(): void {
    this.adc.completeADCRead(0);
    this.cpu.reset();
  }

  /** Cycles jumped over idle loops rather than stepped (see AvrRunner). */
  get jumpedCycles(): number {
    return this.runner.jumpedCycles;
  }

  /** Runs until the CPU has executed `cycles` more cycles. */
  run(cycles: number): void {
    this.runner.runUntil(this.cpu.cycles + cycles);
  }

  /** Like run, also counting the cycles whose program counter lies in [from, to) (byte addresses). */
  runCounting(cycles: number, from: number, to: number): number {
    return this.runner.runCounting(this.cpu.cycles + cycles, from, to);
  }
}
