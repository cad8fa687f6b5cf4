/**
 * @module Serial sensors for the gateway: SerialSensorSource reads a Plantower PMS5003 or a
 * Winsen MH-Z19 on a UART or USB adapter and survives unplugging. docs/serial-sensors.md is the guide.
 */
export { SerialSensorSource, SERIAL_SENSOR_DEFAULTS, type SerialSensorSourceOptions } from './serial-sensor-source.ts';
export { SERIAL_SENSOR_KINDS, SERIAL_SENSORS, isSerialSensorKind, type SensorMode, type SerialSensorKind } from './sensor.ts';
export { SERIAL_SENSOR_ERRORS, SerialSensorError, classifyOpenError, type SerialSensorErrorCode } from './errors.ts';
export { BACKOFF_DEFAULTS, backoffDelay, type BackoffOptions } from '@ferry/base';
export { serialSensorOptions, serialSensorSources, type SerialConfigEntry, type SerialRuntime } from './config.ts';
export type { SerialBinding } from './port.ts';
